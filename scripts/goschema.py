"""A pragmatic reader of Terraform SDKv2 schema literals in Go source.

It reads what `scripts/provider_rules.py` needs from the google-beta provider's
`resource_*.go` files: the `map[string]*schema.Schema{...}` literals, nested `Elem` blocks,
validators and the cross-field rules. It is bracket matching over the source text, not a Go
parser: what it cannot read it keeps as the Go expression, marked unsupported, so the data
says what was left out instead of silently dropping it.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OPENERS = {"{": "}", "(": ")", "[": "]"}
CROSS_FIELD = ("ConflictsWith", "ExactlyOneOf", "AtLeastOneOf", "RequiredWith")


def skip_literal(text: str, i: int) -> int:
    """Index just past the string, rune or comment starting at `i` (or `i` if none)."""
    c = text[i]
    if c == "`":
        return text.index("`", i + 1) + 1
    if c in "\"'":
        j = i + 1
        while text[j] != c:
            j += 2 if text[j] == "\\" else 1
        return j + 1
    if text.startswith("//", i):
        end = text.find("\n", i)
        return len(text) if end < 0 else end
    if text.startswith("/*", i):
        return text.index("*/", i + 2) + 2
    return i


def pieces(text: str, start: int = 0):
    """(index, piece, depth) from `start`: each string, rune or comment whole, every other
    character alone; `depth` is how many brackets are open around the piece."""
    depth, i = 0, start
    while i < len(text):
        j = skip_literal(text, i)
        if j != i:
            yield i, text[i:j], depth
            i = j
            continue
        c = text[i]
        if c in ")]}":
            depth -= 1
        yield i, c, depth
        if c in OPENERS:
            depth += 1
        i += 1


def is_comment(piece: str) -> bool:
    return piece.startswith(("//", "/*"))


def matching(text: str, open_at: int) -> int:
    """Index of the bracket closing the one at `open_at`."""
    expected: list[str] = []
    for i, piece, _ in pieces(text, open_at):
        if piece in OPENERS:
            expected.append(OPENERS[piece])
        elif piece in (")", "]", "}"):
            if piece != expected.pop():
                raise ValueError(f"unbalanced {piece!r} at {i}")
            if not expected:
                return i
    raise ValueError("unclosed bracket")


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split on `sep` outside brackets, strings and comments; comments are dropped."""
    parts, out = [], []
    for _, piece, depth in pieces(text):
        if is_comment(piece):
            continue
        if piece == sep and depth == 0:
            parts.append("".join(out).strip())
            out = []
        else:
            out.append(piece)
    parts.append("".join(out).strip())
    return [p for p in parts if p]


def key_value(item: str) -> tuple[str, str] | None:
    """`Key: value` (or `"key": value`) → (key, value); the first top-level colon splits."""
    for i, piece, depth in pieces(item):
        if piece == ":" and depth == 0:
            return item[:i].strip(), item[i + 1 :].strip()
    return None


def go_string(expr: str) -> str | None:
    """A Go string literal (or a `+` of them) → its value; None if it is anything else."""
    pieces = split_top(expr, "+")
    values = []
    for piece in pieces:
        piece = piece.strip()
        if piece.startswith("`") and piece.endswith("`"):
            values.append(piece[1:-1])
        elif piece.startswith('"') and piece.endswith('"'):
            values.append(ast.literal_eval(piece))
        else:
            return None
    return "".join(values)


def literal_body(expr: str, prefix: str) -> str | None:
    """`[]string{"a", "b"}` with prefix `[]string` → the text between the braces."""
    expr = expr.strip()
    if not expr.startswith(prefix):
        return None
    brace = expr.index("{", len(prefix) - 1 if prefix.endswith("{") else len(prefix))
    return expr[brace + 1 : matching(expr, brace)]


@dataclass
class Package:
    """The non-test Go files of one package, indexed by top-level func and var names."""

    name: str
    text: str
    funcs: dict[str, int] = field(default_factory=dict)
    vars: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path) -> Package:
        files = sorted(p for p in directory.glob("*.go") if not p.name.endswith("_test.go"))
        text = "\n".join(p.read_text() for p in files)
        package = cls(directory.name, text)
        for m in re.finditer(r"^func (\w+)\(", text, re.M):
            package.funcs.setdefault(m.group(1), m.end())
        for m in re.finditer(r"^(?:var|const) (\w+)\s*(?:[\w.\[\]*]+\s*)?=\s*", text, re.M):
            package.vars.setdefault(m.group(1), m.end())
        for block in re.finditer(r"^(?:var|const) \(", text, re.M):
            body = text[block.end() : matching(text, block.end() - 1)]
            for m in re.finditer(r"^\s*(\w+)\s*(?:[\w.\[\]*]+\s*)?=\s*", body, re.M):
                package.vars.setdefault(m.group(1), block.end() + m.end())
        return package

    def var_expr(self, name: str) -> str | None:
        start = self.vars.get(name)
        if start is None:
            return None
        return expression_at(self.text, start)

    def func_body(self, name: str) -> str | None:
        start = self.funcs.get(name)
        if start is None:
            return None
        brace = self.text.index("{", matching(self.text, start - 1))
        # A result type such as `map[string]*schema.Schema {` has no brace; the body's is next.
        return self.text[brace + 1 : matching(self.text, brace)]


def expression_at(text: str, start: int) -> str:
    """The Go expression starting at `start`, up to the end of its line or its brackets."""
    i = start
    while i < len(text):
        j = skip_literal(text, i)
        if j != i:
            i = j
            continue
        c = text[i]
        if c in OPENERS:
            i = matching(text, i) + 1
            continue
        if c == "\n" and text[start:i].rstrip()[-1:] not in "+,(":
            break
        i += 1
    return text[start:i].strip()


class Source:
    """The provider source tree: packages loaded on demand by import name."""

    def __init__(self, root: Path):
        self.root = root  # the repository root (holds google-beta/)
        self._packages: dict[str, Package] = {}

    def package(self, name: str, home: str) -> Package:
        """`name` as written in code (`tpgresource`, or "" for the current package `home`)."""
        key = name or home
        if key not in self._packages:
            base = self.root / "google-beta"
            directory = base / key if (base / key).is_dir() else base / "services" / key
            self._packages[key] = Package.load(directory)
        return self._packages[key]


@dataclass
class Field:
    """One schema.Schema, as data."""

    type: str = ""
    required: bool = False
    optional: bool = False
    computed: bool = False
    force_new: bool = False
    max_items: int | None = None
    min_items: int | None = None
    validators: list[dict[str, Any]] = field(default_factory=list)
    cross: dict[str, list[str]] = field(default_factory=dict)  # ConflictsWith … as TF paths
    default: Any = None
    deprecated: bool = False
    write_only: bool = False
    doc_rfc1035: bool = False  # the description states RFC 1035 / 1-63 characters
    fields: dict[str, Field] | None = None  # a nested block
    item: Field | None = None  # the element of a list/set/map of scalars
    unsupported: list[str] = field(default_factory=list)


class SchemaReader:
    """Resolves schema expressions within the package they are written in."""

    def __init__(self, source: Source):
        self.source = source

    def _resolve_name(self, expr: str, home: str) -> tuple[Package, str]:
        if "." in expr:
            package, name = expr.split(".", 1)
            return self.source.package(package, home), name
        return self.source.package("", home), expr

    # --- schema maps -------------------------------------------------------------------------
    def schema_map(self, expr: str, home: str) -> dict[str, Field]:
        expr = expr.strip()
        body = literal_body(expr, "map[string]*schema.Schema")
        if body is not None:
            return self.entries(body, home)
        call = re.fullmatch(r"([\w.]+)\((.*)\)", expr, re.S)
        if call and call.group(1).endswith("MergeSchemas"):
            merged: dict[str, Field] = {}
            for part in split_top(call.group(2)):
                merged |= self.schema_map(part, home)
            return merged
        if call:
            package, name = self._resolve_name(call.group(1), home)
            body = package.func_body(name)
            if body is None:
                raise LookupError(f"no func {call.group(1)} in {package.name}")
            returned = re.search(r"return\s+", body)
            return self.schema_map(expression_at(body, returned.end()), package.name)
        if re.fullmatch(r"[\w.]+", expr):
            package, name = self._resolve_name(expr, home)
            value = package.var_expr(name)
            if value is None:
                raise LookupError(f"no var {expr} in {package.name}")
            return self.schema_map(value, package.name)
        raise ValueError(f"cannot read schema map {expr[:80]!r}")

    def entries(self, body: str, home: str) -> dict[str, Field]:
        fields = {}
        for item in split_top(body):
            pair = key_value(item)
            if pair is None:
                continue
            name = go_string(pair[0])
            if name is None:
                continue
            fields[name] = self.field(pair[1], home)
        return fields

    # --- one field -----------------------------------------------------------------------------
    def field(self, expr: str, home: str) -> Field:
        expr = expr.strip()
        if expr.startswith("&schema.Schema"):
            expr = expr[len("&schema.Schema") :]
        if expr.startswith("{"):
            return self.literal(expr[1 : matching(expr, 0)], home)
        call = re.fullmatch(r"([\w.]+)\((.*)\)", expr, re.S)
        if call:
            package, name = self._resolve_name(call.group(1), home)
            body = package.func_body(name)
            returned = re.search(r"return\s+", body or "")
            if returned:
                return self.field(expression_at(body, returned.end()), package.name)
        return Field(unsupported=[f"schema: {expr[:120]}"])

    def literal(self, body: str, home: str) -> Field:
        f = Field()
        for item in split_top(body):
            pair = key_value(item)
            if pair is None:
                continue
            key, value = pair
            if key == "Type":
                f.type = value.removeprefix("schema.Type").lower()
            elif key in ("Required", "Optional", "Computed", "ForceNew", "WriteOnly"):
                attr = {"ForceNew": "force_new", "WriteOnly": "write_only"}.get(key, key.lower())
                setattr(f, attr, value == "true")
            elif key in ("MaxItems", "MinItems"):
                setattr(f, "max_items" if key == "MaxItems" else "min_items", int(value))
            elif key == "Deprecated":
                f.deprecated = True
            elif key == "Description":
                f.doc_rfc1035 = bool(re.search(r"1-63 characters|RFC ?1035", value, re.I))
            elif key == "Default":
                f.default = self.scalar(value)
            elif key in CROSS_FIELD:
                paths = self.strings(value, home)
                if paths is None:
                    f.unsupported.append(f"{key}: {value[:120]}")
                else:
                    f.cross[key] = paths
            elif key in ("ValidateFunc", "ValidateDiagFunc"):
                f.validators += self.validators(value, home)
            elif key == "Elem":
                self.elem(f, value, home)
        return f

    def elem(self, f: Field, expr: str, home: str) -> None:
        expr = expr.strip()
        if expr.startswith("&schema.Resource"):
            body = expr[expr.index("{") + 1 : matching(expr, expr.index("{"))]
            for item in split_top(body):
                pair = key_value(item)
                if pair and pair[0] == "Schema":
                    f.fields = self.schema_map(pair[1], home)
            return
        if expr.startswith(("&schema.Schema", "{")):
            f.item = self.field(expr, home)
            return
        call = re.fullmatch(r"([\w.]+)\(\)", expr)
        if call:
            package, name = self._resolve_name(call.group(1), home)
            body = package.func_body(name)
            returned = re.search(r"return\s+", body or "")
            if returned:
                self.elem(f, expression_at(body, returned.end()), package.name)
                return
        if re.fullmatch(r"[\w.]+", expr):  # a package var, e.g. Cloud SQL's database flag block
            package, name = self._resolve_name(expr, home)
            value = package.var_expr(name)
            if value is not None:
                self.elem(f, value, package.name)
                return
        f.unsupported.append(f"Elem: {expr[:120]}")

    # --- values --------------------------------------------------------------------------------
    def scalar(self, expr: str) -> Any:
        text = go_string(expr)
        if text is not None:
            return text
        if expr in ("true", "false"):
            return expr == "true"
        try:
            return int(expr)
        except ValueError:
            try:
                return float(expr)
            except ValueError:
                return None

    def strings(self, expr: str, home: str) -> list[str] | None:
        body = literal_body(expr, "[]string")
        if body is not None:
            values = [self.string(item, home) for item in split_top(body)]
            return None if None in values else values
        if re.fullmatch(r"[\w.]+", expr.strip()):
            package, name = self._resolve_name(expr.strip(), home)
            value = package.var_expr(name)
            return None if value is None else self.strings(value, package.name)
        return None

    def string(self, expr: str, home: str) -> str | None:
        """A string literal, a `+` of literals and constants, or a constant."""
        values = []
        for piece in split_top(expr, "+"):
            text = go_string(piece)
            if text is None and re.fullmatch(r"[\w.]+", piece):
                package, name = self._resolve_name(piece, home)
                value = package.var_expr(name)
                text = None if value is None else self.string(value, package.name)
            if text is None:
                return None
            values.append(text)
        return "".join(values)

    def numbers(self, expr: str) -> list[float] | None:
        try:
            return [float(part) for part in split_top(expr)]
        except ValueError:
            return None

    def validators(self, expr: str, home: str) -> list[dict[str, Any]]:
        """A ValidateFunc expression → rules the checker applies (or one marked unsupported)."""
        expr = expr.strip()
        call = re.fullmatch(r"([\w.]+)(?:\((.*)\))?", expr, re.S)
        if not call:
            return [{"kind": "unsupported", "go": expr[:200]}]
        name, args = call.group(1), call.group(2) or ""
        short = name.split(".")[-1]
        if short in ("ToDiagFunc", "All"):
            return [v for part in split_top(args) for v in self.validators(part, home)]
        if short == "OrEmpty":
            return [dict(v, allow_empty=True) for v in self.validators(args, home)]
        if short in ("ValidateEnum", "StringInSlice"):
            parts = split_top(args)
            values = self.strings(parts[0], home)
            if values is not None:
                ignore_case = len(parts) > 1 and parts[1] == "true"
                return [{"kind": "enum", "values": values, "ignore_case": ignore_case}]
        if short in ("IntBetween", "IntAtLeast", "IntAtMost", "FloatBetween", "FloatAtLeast"):
            numbers = self.numbers(args)
            if numbers is not None:
                low = None if short == "IntAtMost" else numbers[0]
                high = numbers[-1] if short in ("IntBetween", "IntAtMost", "FloatBetween") else None
                kind = "int_range" if short.startswith("Int") else "number_range"
                return [{"kind": kind, "min": low, "max": high}]
        if short == "StringLenBetween":
            numbers = self.numbers(args)
            if numbers is not None:
                return [{"kind": "length", "min": int(numbers[0]), "max": int(numbers[1])}]
        if short == "StringIsNotEmpty":
            return [{"kind": "length", "min": 1, "max": None}]
        if short == "ValidateRegexp":
            pattern = self.string(args, home)
            if pattern is not None:
                return [{"kind": "regex", "pattern": pattern}]
        if short == "StringMatch":
            inner = re.match(r"regexp\.MustCompile\((.*)\)$", split_top(args)[0], re.S)
            pattern = inner and self.string(inner.group(1), home)
            if pattern is not None:
                return [{"kind": "regex", "pattern": pattern}]
        if short == "ValidateGCEName":
            return [{"kind": "regex", "pattern": r"^(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)$"}]
        if short == "ValidateRFC1035Name":
            numbers = self.numbers(args)
            if numbers is not None:
                return [
                    {"kind": "length", "min": int(numbers[0]), "max": int(numbers[1])},
                    {"kind": "regex", "pattern": r"^[a-z]([-a-z0-9]*[a-z0-9])?$"},
                ]
        if short in ("ValidateIpCidrRange", "IsCIDR"):
            return [{"kind": "cidr"}]
        if short in ("IsIPAddress", "ValidateIpAddress"):
            return [{"kind": "ip_address"}]
        if short == "StringIsJSON":
            return [{"kind": "json"}]
        if short == "ValidateBase64String":
            return [{"kind": "base64"}]
        if short in ("ValidateDuration", "ValidateNonNegativeDuration"):
            return [{"kind": "go_duration", "non_negative": short != "ValidateDuration"}]
        return [{"kind": "unsupported", "go": expr[:200]}]


def registrations(text: str) -> dict[str, str]:
    """`registry.Schema{Name: "google_x", Type: registry.SchemaTypeResource…, Schema: expr}`
    blocks in a file → {terraform name: schema expression} (resources and IAM resources)."""
    found = {}
    for m in re.finditer(r"registry\.Schema\{", text):
        body = text[m.end() : matching(text, m.end() - 1)]
        pairs = dict(kv for kv in map(key_value, split_top(body)) if kv)
        kinds = ("registry.SchemaTypeResource", "registry.SchemaTypeIAMResource")
        if pairs.get("Type") not in kinds:
            continue
        name = go_string(pairs.get("Name", ""))
        if name and "Schema" in pairs:
            found[name] = pairs["Schema"]
    return found


def resource_schema(reader: SchemaReader, expr: str, home: str) -> dict[str, Field]:
    """The schema map of a registered resource expression (a constructor call)."""
    call = re.fullmatch(r"([\w.]+)\((.*)\)", expr.strip(), re.S)
    if not call:
        raise ValueError(f"cannot read resource {expr[:80]!r}")
    name, args = call.group(1), split_top(call.group(2))
    iam = {
        "ResourceIamMember": "IamMemberBaseSchema",
        "ResourceIamBinding": "iamBindingSchema",
        "ResourceIamAuditConfig": "iamAuditConfigSchema",
    }.get(name.split(".")[-1])
    if iam:  # tpgiamresource merges its base schema with the parent's
        return reader.schema_map(f"tpgiamresource.{iam}", home) | reader.schema_map(args[0], home)
    package, func = reader._resolve_name(name, home)
    body = package.func_body(func)
    if body is None:
        raise LookupError(f"no func {name}")
    inner = re.search(r"return\s+", body)
    returned = expression_at(body, inner.end())
    if returned.startswith("&schema.Resource"):
        literal = returned[returned.index("{") + 1 : matching(returned, returned.index("{"))]
        for item in split_top(literal):
            pair = key_value(item)
            if pair and pair[0] == "Schema":
                return reader.schema_map(pair[1], package.name)
        raise ValueError(f"{name} returns a resource without Schema")
    return resource_schema(reader, returned, package.name)
