"""Evaluate the Workload Identity and IAM conditions and attribute mappings the bootstrap writes.

Only the subset of CEL the bootstrap uses is understood: `==`, `!=`, `!`, `&&`, `||`, `+` on
strings, `cond ? a : b`, parentheses, quoted strings, `x.startsWith(y)`, `has(assertion.c)`,
`assertion.<claim>` and `resource.<attribute>`. Anything else is an error, so an expression that
grows beyond it fails the tests instead of being half-read.

As Google evaluates them: reading a claim the token does not carry is an error, and an error
refuses the token (in a condition) or fails the exchange (in a mapping); `has()` is how an
expression reads an optional claim. A missing `resource` attribute reads as the empty string.
"""

from __future__ import annotations

import re
from typing import Any

TOKEN = re.compile(
    r"\s*(?:(?P<op>&&|\|\||==|!=|!|\(|\)|\+|\?|:|,)|(?P<str>'[^']*'|\"[^\"]*\")"
    r"|(?P<starts>\.startsWith\()|(?P<has>has\()"
    r"|(?P<var>assertion|resource)\.(?P<attr>\w+))"
)


OPENERS = ("(", ".startsWith(", "has(")


class MissingClaim(Exception):
    """The expression read a claim the token does not carry."""


def tokens(expression: str) -> list[tuple[str, str]]:
    found, position = [], 0
    while expression[position:].strip():
        match = TOKEN.match(expression, position)
        if match is None:
            raise ValueError(f"unsupported CEL at {expression[position:]!r}")
        if match["op"]:
            found.append(("op", match["op"]))
        elif match["str"] is not None:
            found.append(("str", match["str"][1:-1]))
        elif match["starts"]:
            found.append(("op", ".startsWith("))
        elif match["has"]:
            found.append(("op", "has("))
        else:
            found.append((match["var"], match["attr"]))
        position = match.end()
    return found


class _Parser:
    def __init__(self, expression: str, claims: dict[str, str], resource: dict[str, str]):
        self.items = tokens(expression)
        self.at = 0
        self.depth = 0  # brackets open: where an operand skipped after an error ends
        self.claims, self.resource = claims, resource

    def peek(self) -> str | None:
        return self.items[self.at][1] if self.at < len(self.items) else None

    def take(self, op: str) -> None:
        if self.peek() != op:
            raise ValueError(f"expected {op!r} at token {self.at}")
        self.at += 1
        self.depth += op in OPENERS
        self.depth -= op == ")"

    def parse(self) -> Any:
        value = self.ternary()
        if self.at != len(self.items):
            raise ValueError(f"unexpected {self.peek()!r}")
        return value

    def ternary(self) -> Any:
        condition = self.either()
        if self.peek() != "?":
            return condition
        self.take("?")
        # Both branches are parsed; only the chosen one's errors count, as in CEL.
        yes = self._lazy(self.ternary)
        self.take(":")
        no = self._lazy(self.ternary)
        return _force(yes if _truth(condition) else no)

    def either(self) -> Any:
        value = self._lazy(self.both)
        while self.peek() == "||":
            self.take("||")
            other = self._lazy(self.both)
            value = _or(value, other)
        return _force(value)

    def both(self) -> Any:
        value = self._lazy(self.unary)
        while self.peek() == "&&":
            self.take("&&")
            other = self._lazy(self.unary)
            value = _and(value, other)
        return _force(value)

    def unary(self) -> Any:
        if self.peek() == "!":
            self.take("!")
            return not _truth(self.unary())
        return self.comparison()

    def comparison(self) -> Any:
        left = self.sum()
        if self.peek() in ("==", "!="):
            op = self.peek()
            self.take(op)
            right = self.sum()
            return (left == right) if op == "==" else (left != right)
        return left

    def sum(self) -> Any:
        value = self.postfix()
        while self.peek() == "+":
            self.take("+")
            value = _text(value) + _text(self.postfix())
        return value

    def postfix(self) -> Any:
        value = self.primary()
        while self.peek() == ".startsWith(":
            self.take(".startsWith(")
            prefix = self.ternary()
            self.take(")")
            value = _text(value).startswith(_text(prefix))
        return value

    def primary(self) -> Any:
        kind, text = self.items[self.at] if self.at < len(self.items) else ("end", "")
        if kind == "str":
            self.at += 1
            return text
        if text == "(":
            self.take("(")
            value = self.ternary()
            self.take(")")
            return value
        if text == "has(":
            self.take("has(")
            kind, claim = self.items[self.at]
            if kind != "assertion":
                raise ValueError("has() of something other than a claim")
            self.at += 1
            self.take(")")
            return claim in self.claims
        if kind == "assertion":
            self.at += 1
            if text not in self.claims:
                raise MissingClaim(text)
            return self.claims[text]
        if kind == "resource":
            self.at += 1
            return self.resource.get(text, "")
        raise ValueError(f"unexpected {text!r}")

    def _lazy(self, rule) -> Any:
        """Parse with `rule`; an evaluation error is kept, to be raised only if it matters."""
        depth = self.depth
        try:
            return rule()
        except MissingClaim as error:
            # Skip what is left of the operand, brackets it opened included.
            while self.at < len(self.items):
                text = self.items[self.at][1]
                if self.depth == depth and text in ("&&", "||", "?", ":", ")", ","):
                    break
                self.depth += text in OPENERS
                self.depth -= text == ")"
                self.at += 1
            return error


def _force(value: Any) -> Any:
    if isinstance(value, MissingClaim):
        raise value
    return value


def _truth(value: Any) -> bool:
    value = _force(value)
    if not isinstance(value, bool):
        raise ValueError(f"not a boolean: {value!r}")
    return value


def _text(value: Any) -> str:
    value = _force(value)
    if not isinstance(value, str):
        raise ValueError(f"not a string: {value!r}")
    return value


def _or(left: Any, right: Any) -> Any:
    # CEL's commutative logic: true wins over an error, an error over false.
    if left is True or right is True:
        return True
    if isinstance(left, MissingClaim):
        return left
    if isinstance(right, MissingClaim):
        return right
    return _truth(left) or _truth(right)


def _and(left: Any, right: Any) -> Any:
    if left is False or right is False:
        return False
    if isinstance(left, MissingClaim):
        return left
    if isinstance(right, MissingClaim):
        return right
    return _truth(left) and _truth(right)


def evaluate(expression: str, claims: dict[str, str], resource: dict | None = None) -> Any:
    """The expression's value; raises MissingClaim where Google's evaluation fails."""
    return _Parser(expression, claims, resource or {}).parse()


def admits(condition: str, claims: dict[str, str], resource: dict | None = None) -> bool:
    """Whether the condition admits these claims; an evaluation error refuses, as in IAM."""
    try:
        return _truth(evaluate(condition, claims, resource))
    except MissingClaim:
        return False


def mapped(mapping: dict[str, str], claims: dict[str, str]) -> dict[str, str] | None:
    """The attributes a provider's mapping gives a token, or None where the exchange fails."""
    try:
        return {name: _text(evaluate(expr, claims)) for name, expr in mapping.items()}
    except MissingClaim:
        return None
