"""Regenerating the provider rules: the Go reader, the coverage it reports, what it refuses.

scripts/provider_rules.py and its reader (scripts/goschema.py) are not part of the installed
tool; these tests run them on small Go snippets and small rules documents written here.
"""

from __future__ import annotations

import json
from pathlib import Path

from scripts import provider_rules, rules_coverage
from scripts.goschema import SchemaReader, Source, registrations, resource_schema
from tests.kit import SQL_INSTANCE
from vidgo_infra.provider_rules import load

GO_RESOURCE = """
package widget

var widgetKeys = []string{"limits.0.low", "limits.0.high"}

func init() {
	registry.Schema{
		Name:        "google_widget",
		ProductName: "widget",
		Type:        registry.SchemaTypeResource,
		Schema:      ResourceWidget(),
	}.Register()
	registry.Schema{
		Name:   "google_widget",
		Type:   registry.SchemaTypeDataSource,
		Schema: DataSourceWidget(),
	}.Register()
}

func ResourceWidget() *schema.Resource {
	return &schema.Resource{
		Create: create,
		Schema: map[string]*schema.Schema{
			"name": {
				Type:     schema.TypeString,
				Required: true,
				ForceNew: true,
				Description: `Must be 1-63 characters, "quoted", {braced}.`,
			},
			// a comment with a brace {
			"mode": {
				Type:         schema.TypeString,
				Optional:     true,
				Default:      "FAST",
				ValidateFunc: verify.ValidateEnum([]string{"FAST", "SLOW", ""}),
			},
			"count": &schema.Schema{
				Type:         schema.TypeInt,
				Optional:     true,
				ValidateFunc: validation.IntBetween(1, 7),
				ConflictsWith: []string{"mode"},
			},
			"id_pattern": {
				Type:         schema.TypeString,
				Computed:     true,
				Optional:     true,
				ValidateFunc: verify.ValidateRegexp(`^[a-z]{1,5}$`),
			},
			"label": {
				Type:             schema.TypeString,
				Optional:         true,
				ValidateDiagFunc: validation.ToDiagFunc(validation.StringLenBetween(2, 8)),
			},
			"custom": {
				Type:         schema.TypeString,
				Optional:     true,
				ValidateFunc: validateCustom,
			},
			"limits": {
				Type:     schema.TypeList,
				Optional: true,
				MaxItems: 1,
				Elem:     widgetLimitsSchema(),
			},
			"tags": {
				Type:     schema.TypeSet,
				Optional: true,
				Elem: &schema.Schema{
					Type:         schema.TypeString,
					ValidateFunc: validation.StringInSlice([]string{"a", "b"}, true),
				},
			},
		},
	}
}

func widgetLimitsSchema() *schema.Resource {
	return &schema.Resource{
		Schema: map[string]*schema.Schema{
			"low": {
				Type:         schema.TypeInt,
				Optional:     true,
				AtLeastOneOf: widgetKeys,
			},
			"high": {
				Type:         schema.TypeFloat,
				Optional:     true,
				AtLeastOneOf: widgetKeys,
				RequiredWith: []string{"limits.0.low"},
				ValidateFunc: validation.FloatBetween(0, 1.5),
			},
		},
	}
}
"""


def go_tree(tmp_path: Path, files: dict[str, str]) -> SchemaReader:
    for relative_path, text in files.items():
        path = tmp_path / "google-beta" / relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return SchemaReader(Source(tmp_path))


def test_go_reader_finds_resources_not_data_sources():
    assert list(registrations(GO_RESOURCE)) == ["google_widget"]
    assert registrations(GO_RESOURCE)["google_widget"] == "ResourceWidget()"


def test_go_reader_reads_fields_validators_and_cross_field_rules(tmp_path):
    reader = go_tree(tmp_path, {"services/widget/resource_widget.go": GO_RESOURCE})
    fields = resource_schema(reader, "ResourceWidget()", "widget")
    assert set(fields) == {
        *("name", "mode", "count", "id_pattern", "label", "custom", "limits", "tags")
    }
    name = fields["name"]
    assert (name.type, name.required, name.force_new, name.doc_rfc1035) == (
        "string",
        True,
        True,
        True,
    )
    assert fields["mode"].default == "FAST"
    assert fields["mode"].validators == [
        {"kind": "enum", "values": ["FAST", "SLOW", ""], "ignore_case": False}
    ]
    assert fields["count"].validators == [{"kind": "int_range", "min": 1, "max": 7}]
    assert fields["count"].cross == {"ConflictsWith": ["mode"]}
    assert fields["id_pattern"].computed and fields["id_pattern"].optional
    assert fields["id_pattern"].validators == [{"kind": "regex", "pattern": "^[a-z]{1,5}$"}]
    assert fields["label"].validators == [{"kind": "length", "min": 2, "max": 8}]
    assert fields["custom"].validators == [{"kind": "unsupported", "go": "validateCustom"}]
    assert fields["tags"].item.validators == [
        {"kind": "enum", "values": ["a", "b"], "ignore_case": True}
    ]
    limits = fields["limits"]
    assert limits.max_items == 1 and set(limits.fields) == {"low", "high"}
    assert limits.fields["low"].cross == {"AtLeastOneOf": ["limits.0.low", "limits.0.high"]}
    high = limits.fields["high"]
    assert high.cross["RequiredWith"] == ["limits.0.low"]
    assert high.validators == [{"kind": "number_range", "min": 0.0, "max": 1.5}]


def test_go_reader_merges_an_iam_members_base_schema_with_its_parent(tmp_path):
    reader = go_tree(
        tmp_path,
        {
            "tpgiamresource/resource_iam_member.go": """package tpgiamresource
var IamMemberBaseSchema = map[string]*schema.Schema{
	"role":   {Type: schema.TypeString, Required: true, ForceNew: true},
	"member": {Type: schema.TypeString, Required: true, ForceNew: true},
}
""",
            "services/widget/iam_widget.go": """package widget
var WidgetIamSchema = map[string]*schema.Schema{
	"widget": {Type: schema.TypeString, Required: true, ForceNew: true},
}
func init() {
	registry.Schema{
		Name:   "google_widget_iam_member",
		Type:   registry.SchemaTypeIAMResource,
		Schema: tpgiamresource.ResourceIamMember(WidgetIamSchema, Producer, Parse),
	}.Register()
}
""",
        },
    )
    text = (tmp_path / "google-beta/services/widget/iam_widget.go").read_text()
    expr = registrations(text)["google_widget_iam_member"]
    assert set(resource_schema(reader, expr, "widget")) == {"role", "member", "widget"}


def test_go_reader_keeps_what_it_cannot_read_as_unsupported(tmp_path):
    reader = go_tree(
        tmp_path,
        {
            "services/widget/resource_widget.go": """package widget
func ResourceWidget() *schema.Resource {
	return &schema.Resource{Schema: map[string]*schema.Schema{
		"odd": {
			Type: schema.TypeString,
			Optional: true,
			ValidateFunc: validation.StringMatch(regexp.MustCompile(fmt.Sprintf("%s", x)), "m"),
			ExactlyOneOf: computedKeys(),
		},
	}}
}
"""
        },
    )
    odd = resource_schema(reader, "ResourceWidget()", "widget")["odd"]
    assert odd.validators[0]["kind"] == "unsupported"
    assert odd.unsupported == ["ExactlyOneOf: computedKeys()"]


def test_go_reader_follows_a_block_declared_as_a_package_var(tmp_path):
    # Cloud SQL declares its database flag block this way; unread, the flags were unchecked.
    reader = go_tree(
        tmp_path,
        {
            "services/widget/resource_widget.go": """package widget
var widgetFlagElem *schema.Resource = &schema.Resource{
	Schema: map[string]*schema.Schema{
		"name":  {Type: schema.TypeString, Required: true},
		"value": {Type: schema.TypeString, Required: true},
	},
}
func ResourceWidget() *schema.Resource {
	return &schema.Resource{Schema: map[string]*schema.Schema{
		"flags": {Type: schema.TypeSet, Optional: true, Elem: widgetFlagElem},
	}}
}
"""
        },
    )
    flags = resource_schema(reader, "ResourceWidget()", "widget")["flags"]
    assert flags.unsupported == []
    assert set(flags.fields) == {"name", "value"} and flags.fields["name"].required


# --- coverage, on small rules documents -------------------------------------------------------
def widget_rules(**count_rule) -> dict:
    count = {"tf": "count", "shape": "scalar", "optional": True, **count_rule}
    return {
        "resources": {
            "gcp:widget/widget:Widget": {
                "properties": {
                    "count": count,
                    "labels": {"tf": "labels", "shape": "map", "optional": True},
                    "flags": {
                        "tf": "flags",
                        "shape": "list",
                        "optional": True,
                        "fields": {
                            "name": {"tf": "name", "shape": "scalar", "required": True},
                            "value": {"tf": "value", "shape": "scalar", "required": True},
                        },
                    },
                    "selfLink": {"tf": "self_link", "shape": "scalar", "computed": True},
                    "custom": {
                        "tf": "custom",
                        "shape": "scalar",
                        "optional": True,
                        "validators": [{"kind": "unsupported", "go": "validateCustom"}],
                    },
                }
            }
        }
    }


def test_coverage_names_untranslated_validators_and_free_form_blocks():
    rules = widget_rules(validators=[{"kind": "int_range", "min": 1, "max": 7}])
    report = rules_coverage.report(rules)
    assert (
        "gcp:widget/widget:Widget: 6 properties, 1 validators, 0 cross-field rules; "
        "1 not translated, 2 free-form"
    ) in report
    assert "not translated  custom: validateCustom" in report
    assert "free-form       labels (map: any key)" in report
    assert "free-form       flags (name/value list: any name)" in report


def test_a_regeneration_that_drops_a_validator_or_a_type_is_a_loss():
    before = widget_rules(validators=[{"kind": "int_range", "min": 1, "max": 7}])
    untranslated = widget_rules(validators=[{"kind": "unsupported", "go": "validateCount"}])
    assert rules_coverage.losses(before, untranslated) == [
        "gcp:widget/widget:Widget: validators count int_range"
    ]
    assert rules_coverage.losses(before, {"resources": {}}) == [
        "gcp:widget/widget:Widget: no longer in the data"
    ]
    gained = widget_rules(
        validators=[{"kind": "int_range", "min": 1, "max": 7}], conflicts_with=["labels"]
    )
    assert rules_coverage.losses(before, gained) == []


def test_the_committed_rules_name_the_database_flags_as_free_form_and_where_they_are_checked():
    sql = rules_coverage.coverage(
        load()["resources"][SQL_INSTANCE],
        SQL_INSTANCE,
    )
    (flags,) = [f for f in sql.free_form if f.startswith("settings.databaseFlags ")]
    assert "stacks/cloudsql_flags.json" in flags
    assert sql.untranslated == []


def test_regeneration_refuses_to_write_rules_that_check_less(tmp_path, monkeypatch, capsys):
    out = tmp_path / "rules.json"
    committed = {
        **widget_rules(validators=[{"kind": "int_range", "min": 1, "max": 7}]),
        "pulumi_gcp": "9.35.0",
        "google_beta": {"version": "v7.45.0", "commit": "c0ffee"},
        "pulumi_gcp_source": {"commit": "decaf"},
    }
    out.write_text(json.dumps(committed))
    poorer = widget_rules(validators=[{"kind": "unsupported", "go": "validateCount"}])
    monkeypatch.setattr(provider_rules, "build_resources", lambda *a: poorer["resources"])
    for tree in ("gb", "pg/provider/cmd/pulumi-resource-gcp"):
        (tmp_path / tree).mkdir(parents=True)
    (tmp_path / "pg/provider/cmd/pulumi-resource-gcp/bridge-metadata.json").write_text(
        json.dumps({"auto-aliasing": {"resources": {}}})
    )
    (tmp_path / "pg/provider/resources.go").write_text("")
    argv = ["--google-beta", str(tmp_path / "gb"), "--pulumi-gcp", str(tmp_path / "pg")]
    argv += ["--google-beta-version", "v7.45.0", "--out", str(out)]

    assert provider_rules.main(argv) == 1
    err = capsys.readouterr().err
    assert "gcp:widget/widget:Widget: validators count int_range" in err
    assert json.loads(out.read_text()) == committed  # not written

    assert provider_rules.main([*argv, "--allow-loss"]) == 0
    written = json.loads(out.read_text())
    assert written["resources"] == poorer["resources"]
    # Extracted archives have no .git: the committed ids of the same versions are kept.
    assert written["google_beta"]["commit"] == "c0ffee"
    assert written["pulumi_gcp_source"]["commit"] == "decaf"
