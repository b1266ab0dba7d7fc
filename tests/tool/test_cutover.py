"""The go-live cut-over decided from plain data: each CNAME missing, wrong or right, the
certificates' states, and the phase with its exit code (vidgo_infra/cutover.py)."""

from __future__ import annotations

import pytest

from vidgo_infra import cutover
from vidgo_infra.cutover import (
    ACTIVE,
    FAILED,
    PROVISIONING,
    Answer,
    Certificate,
    Phase,
    Record,
)

IP = "203.0.113.7"
PARKED = "198.51.100.9"  # where GoDaddy's records point before the cut-over
ZONE = "vidgo.ai"
HOSTS = ("vidgo.ai", "www.vidgo.ai", "api.vidgo.ai")


def target(label: str) -> str:
    return f"{label}-0e40fc77.4.authorize.certificatemanager.goog"


PROD_OUTPUTS = {
    "dns_zone": ZONE,
    "static_ip": IP,
    "dns_records": [
        {"type": "CNAME", "name": "_acme-challenge", "value": target("apex"), "ttl": 600},
        {"type": "CNAME", "name": "_acme-challenge.www", "value": target("www"), "ttl": 600},
        {"type": "CNAME", "name": "_acme-challenge.api", "value": target("api"), "ttl": 600},
        {"type": "A", "name": "@", "value": IP, "ttl": 600},
        {"type": "A", "name": "www", "value": IP, "ttl": 600},
        {"type": "A", "name": "api", "value": IP, "ttl": 600},
    ],
}
ZONE_, RECORDS = cutover.expected_records(PROD_OUTPUTS)

CNAMES_RIGHT = {
    "_acme-challenge.vidgo.ai": Answer(cname=target("apex") + "."),  # resolvers add the dot
    "_acme-challenge.www.vidgo.ai": Answer(cname=target("www")),
    "_acme-challenge.api.vidgo.ai": Answer(cname=target("api").upper()),  # case is not a mistake
}
NOT_MOVED = {host: Answer(ipv4=(PARKED,)) for host in HOSTS}
MOVED = {host: Answer(ipv4=(IP,)) for host in HOSTS}
ALL_ACTIVE = {host: Certificate(ACTIVE) for host in HOSTS}


def assess(answers, certificates=ALL_ACTIVE):
    return cutover.assess(ZONE_, RECORDS, answers, certificates)


def status_of(report, fqdn):
    [check] = [c for c in report.records if c.fqdn == fqdn]
    return check.status


# --- reading the outputs ------------------------------------------------------------------------


def test_outputs_give_the_zone_and_the_records_cnames_first():
    assert ZONE_ == ZONE
    assert [r.type for r in RECORDS] == ["CNAME"] * 3 + ["A"] * 3
    assert RECORDS[1] == Record("CNAME", "_acme-challenge.www", target("www"), 600)
    assert [cutover.host_of(r, ZONE) for r in RECORDS[:3]] == list(HOSTS)
    assert RECORDS[3].fqdn(ZONE) == "vidgo.ai"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"dns_zone": ""}, "no dns_zone"),
        ({"dns_records": []}, "not a non-empty list"),
        ({"dns_records": [{"type": "A", "name": "@"}]}, r"dns_records\[0\] has no value, ttl"),
        (
            {"dns_records": [{"type": "TXT", "name": "@", "value": "x", "ttl": 600}]},
            "is a TXT record",
        ),
        ({"dns_records": [{"type": "A", "name": "@", "value": IP, "ttl": "600"}]}, "ttl is"),
        (
            {"dns_records": list(reversed(PROD_OUTPUTS["dns_records"]))},
            "the CNAMEs go in first",
        ),
        ({"dns_records": PROD_OUTPUTS["dns_records"][:3]}, "no A record"),
    ],
)
def test_outputs_that_break_the_contract_are_refused(change, message):
    with pytest.raises(ValueError, match=message):
        cutover.expected_records({**PROD_OUTPUTS, **change})


def test_the_programs_own_outputs_meet_the_contract(prod, staging):
    zone, records = cutover.expected_records(prod.outputs)
    assert zone == "vidgo.ai"
    assert [(r.type, r.name) for r in records] == [
        ("CNAME", "_acme-challenge"),
        ("CNAME", "_acme-challenge.www"),
        ("CNAME", "_acme-challenge.api"),
        ("A", "@"),
        ("A", "www"),
        ("A", "api"),
    ]
    zone, records = cutover.expected_records(staging.outputs)
    assert [r.name for r in cutover.cnames(records)] == [
        "_acme-challenge.staging",
        "_acme-challenge.api.staging",
    ]
    assert [cutover.host_of(r, zone) for r in cutover.cnames(records)] == staging.outputs["hosts"]
    assert [r.name for r in records if r.type == "A"] == ["staging", "api.staging"]


# --- each phase, each with its exit code --------------------------------------------------------


def test_a_cname_missing_is_the_first_phase():
    answers = {
        **CNAMES_RIGHT,
        "_acme-challenge.www.vidgo.ai": Answer(error="no such name (NXDOMAIN)"),
        **NOT_MOVED,
    }
    report = assess(answers, certificates=None)
    assert report.phase is Phase.ADD_CNAMES
    assert report.exit_code == 1
    assert status_of(report, "_acme-challenge.www.vidgo.ai") == "CNAME missing"
    assert status_of(report, "_acme-challenge.vidgo.ai") == "ok"
    [line] = [x for x in cutover.render_report(report).splitlines() if "www" in x and "CNAME" in x]
    assert line.split()[:3] == ["CNAME", "missing", "_acme-challenge.www.vidgo.ai"]
    assert line.endswith("no such name (NXDOMAIN)")


def test_a_name_with_addresses_but_no_cname_is_missing_its_cname():
    answers = {**CNAMES_RIGHT, "_acme-challenge.vidgo.ai": Answer(ipv4=(PARKED,)), **NOT_MOVED}
    report = assess(answers)
    assert report.phase is Phase.ADD_CNAMES
    assert status_of(report, "_acme-challenge.vidgo.ai") == "CNAME missing"


def test_a_cname_to_another_value_is_wrong_even_with_active_certificates():
    answers = {
        **CNAMES_RIGHT,
        "_acme-challenge.api.vidgo.ai": Answer(cname=target("staging")),
        **NOT_MOVED,
    }
    report = assess(answers)
    assert report.phase is Phase.ADD_CNAMES
    assert report.exit_code == 1
    assert status_of(report, "_acme-challenge.api.vidgo.ai") == "CNAME wrong"
    assert target("staging") in cutover.render_report(report)


def test_cnames_right_certificates_provisioning_is_waiting():
    states = {**ALL_ACTIVE, "www.vidgo.ai": Certificate(PROVISIONING)}
    report = assess({**CNAMES_RIGHT, **NOT_MOVED}, states)
    assert report.phase is Phase.WAIT_FOR_CERTIFICATES
    assert report.exit_code == 1


def test_certificates_not_checked_never_claim_ready():
    report = assess({**CNAMES_RIGHT, **NOT_MOVED}, certificates=None)
    assert report.phase is Phase.WAIT_FOR_CERTIFICATES
    assert report.exit_code == 1
    assert "not checked" in cutover.render_report(report)


def test_a_failed_certificate_shows_googles_reason():
    states = {**ALL_ACTIVE, "api.vidgo.ai": Certificate(FAILED, "CONFIG: CNAME_MISMATCH")}
    report = assess({**CNAMES_RIGHT, **NOT_MOVED}, states)
    assert report.phase is Phase.WAIT_FOR_CERTIFICATES
    assert "FAILED" in cutover.render_report(report)
    assert "CONFIG: CNAME_MISMATCH" in cutover.render_report(report)


def test_cnames_right_certificates_active_nothing_moved_is_ready_to_move():
    report = assess({**CNAMES_RIGHT, **NOT_MOVED})
    assert report.phase is Phase.READY_TO_MOVE_A_RECORDS
    assert report.exit_code == 3
    assert all(status_of(report, host) == "not moved" for host in HOSTS)
    assert cutover.render_report(report).endswith("Phase: ready to move the A records (exit 3)")


def test_a_host_not_resolving_at_all_counts_as_not_moved():
    answers = {**CNAMES_RIGHT, **NOT_MOVED, "api.vidgo.ai": Answer(error="no such name")}
    assert assess(answers).phase is Phase.READY_TO_MOVE_A_RECORDS


def test_some_a_records_moved_is_moving():
    answers = {**CNAMES_RIGHT, **NOT_MOVED, "api.vidgo.ai": Answer(ipv4=(IP,))}
    report = assess(answers)
    assert report.phase is Phase.A_RECORDS_MOVING
    assert report.exit_code == 1
    assert status_of(report, "api.vidgo.ai") == "ok"


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (Answer(ipv4=(IP, PARKED)), "also elsewhere"),  # the parked record left beside it
        (Answer(ipv4=(IP,), ipv6=("2001:db8::1",)), "AAAA left"),
    ],
)
def test_a_moved_record_with_leftovers_is_not_done(answer, status):
    report = assess({**CNAMES_RIGHT, **MOVED, "vidgo.ai": answer})
    assert report.phase is Phase.A_RECORDS_MOVING
    assert status_of(report, "vidgo.ai") == status


def test_everything_in_place_is_done():
    report = assess({**CNAMES_RIGHT, **MOVED})
    assert report.phase is Phase.DONE
    assert report.exit_code == 0
    assert all(c.ok for c in report.records)
    assert not report.notes


def test_done_needs_the_cnames_to_stay():
    """A CNAME removed after issuance fails the next renewal: not done."""
    answers = {**CNAMES_RIGHT, **MOVED, "_acme-challenge.vidgo.ai": Answer(error="NXDOMAIN")}
    report = assess(answers)
    assert report.phase is Phase.ADD_CNAMES
    assert report.exit_code == 1


def test_a_records_moved_before_the_certificates_warn_of_the_gap():
    report = assess(
        {**CNAMES_RIGHT, **MOVED}, {**ALL_ACTIVE, "vidgo.ai": Certificate(PROVISIONING)}
    )
    assert report.phase is Phase.WAIT_FOR_CERTIFICATES
    assert any("handshake failure" in note for note in report.notes)


def test_the_phases_have_distinct_exit_codes():
    cases = {
        Phase.ADD_CNAMES: assess({**NOT_MOVED}),
        Phase.WAIT_FOR_CERTIFICATES: assess({**CNAMES_RIGHT, **NOT_MOVED}, None),
        Phase.READY_TO_MOVE_A_RECORDS: assess({**CNAMES_RIGHT, **NOT_MOVED}),
        Phase.A_RECORDS_MOVING: assess(
            {**CNAMES_RIGHT, **NOT_MOVED, "www.vidgo.ai": MOVED["www.vidgo.ai"]}
        ),
        Phase.DONE: assess({**CNAMES_RIGHT, **MOVED}),
    }
    assert {phase: report.phase for phase, report in cases.items()} == {p: p for p in cases}
    codes = {phase: report.exit_code for phase, report in cases.items()}
    assert codes[Phase.DONE] == 0
    assert codes[Phase.READY_TO_MOVE_A_RECORDS] == 3
    assert {codes[p] for p in cases if p not in (Phase.DONE, Phase.READY_TO_MOVE_A_RECORDS)} == {1}


# --- classic certificates: no CNAMEs, issued after the A records --------------------------------

CLASSIC = [r for r in PROD_OUTPUTS["dns_records"] if r["type"] == "A"]


def test_classic_certificates_move_the_a_records_first():
    zone, records = cutover.expected_records({**PROD_OUTPUTS, "dns_records": CLASSIC})
    provisioning = {host: Certificate(PROVISIONING) for host in HOSTS}
    before = cutover.assess(zone, records, NOT_MOVED, provisioning)
    assert before.phase is Phase.READY_TO_MOVE_A_RECORDS
    after = cutover.assess(zone, records, MOVED, provisioning)
    assert after.phase is Phase.WAIT_FOR_CERTIFICATES
    assert cutover.assess(zone, records, MOVED, ALL_ACTIVE).phase is Phase.DONE
    assert any("Classic certificates" in note for note in before.notes)


# --- Google's certificate states ----------------------------------------------------------------


def test_certificate_states_from_the_gcloud_listing():
    listing = [
        {
            "name": "projects/p/locations/global/certificates/edge-dns-cert-vidgo-ai-1a2b3c4",
            "managed": {"domains": ["vidgo.ai"], "state": "ACTIVE"},
        },
        {
            "name": "projects/p/locations/global/certificates/edge-dns-cert-api-vidgo-ai-5d6e7f8",
            "managed": {
                "domains": ["api.vidgo.ai"],
                "state": "PROVISIONING",
                "authorizationAttemptInfo": [
                    {
                        "domain": "api.vidgo.ai",
                        "state": "FAILED",
                        "failureReason": "CONFIG",
                        "details": "the CNAME does not match",
                        "troubleshooting": {"issues": ["CNAME_MISMATCH"]},
                    }
                ],
            },
        },
        {
            "managed": {
                "domains": ["www.vidgo.ai"],
                "state": "FAILED",
                "provisioningIssue": {"reason": "AUTHORIZATION_ISSUE", "details": "see attempts"},
            }
        },
    ]
    states = cutover.certificate_states(listing)
    assert states["vidgo.ai"] == Certificate("ACTIVE")
    assert states["api.vidgo.ai"] == Certificate(
        "PROVISIONING", "CONFIG: CNAME_MISMATCH (the CNAME does not match)"
    )
    assert states["www.vidgo.ai"] == Certificate("FAILED", "AUTHORIZATION_ISSUE (see attempts)")


# --- the GoDaddy instructions -------------------------------------------------------------------


def test_instructions_put_the_cnames_first_and_the_wait_between():
    text = cutover.render_instructions(ZONE_, RECORDS, "prod")
    cname_at = text.index("_acme-challenge.www")
    wait_at = text.index("Wait until every certificate is ACTIVE")
    a_at = text.index("Only then point the A records")
    assert cname_at < wait_at < a_at
    assert text.index(target("api")) < a_at
    assert ["CNAME", "_acme-challenge.api", target("api"), "600"] in [
        line.split() for line in text.splitlines()
    ]
    prose = " ".join(text.split())  # the steps are wrapped
    assert "exits 3" in prose and "exits 0" in prose
    assert "Keep them for good" in prose
    assert "Do @ last" in prose


def test_staging_instructions_name_records_relative_to_the_shared_zone(staging):
    zone, records = cutover.expected_records(staging.outputs)
    text = cutover.render_instructions(zone, records, "staging")
    assert "_acme-challenge.api.staging" in text
    assert "Do @ last" not in text  # the apex is production's


def test_classic_instructions_say_https_fails_until_issued():
    zone, records = cutover.expected_records({**PROD_OUTPUTS, "dns_records": CLASSIC})
    text = cutover.render_instructions(zone, records, "prod")
    assert [line for line in text.splitlines() if line.split()[:1] == ["CNAME"]] == []
    assert "Wait until every certificate is ACTIVE" not in text
    assert "HTTPS fails the handshake" in " ".join(text.split())
