"""The conformance kit's registry, its documentation and its features file (no sockets).

docs/CONFORMANCE.md's table is the registry's (regenerate it with the snippet in the assertion
message); every case cites sections that exist and, if negative, an error of section 9.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from phone_sim.conformance.cases import CASES
from phone_sim.conformance.cli import case_id as typed_case_id
from phone_sim.conformance.errors import KitSetupError
from phone_sim.conformance.features import Feature, PolicyName, load_features
from phone_sim.conformance.registry import Group, Kind, markdown_table
from phone_sim.conformance.reports import Redactor

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def _headings(doc: str) -> set[str]:
    text = (DOCS / doc).read_text(encoding="utf-8")
    return set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", text, re.M))


def test_the_doc_shows_the_registry() -> None:
    text = (DOCS / "CONFORMANCE.md").read_text(encoding="utf-8")
    shown = text.split("<!-- cases:begin -->\n")[1].split("<!-- cases:end -->")[0]
    assert shown == markdown_table(CASES.values()), (
        "docs/CONFORMANCE.md section 5 differs from the registry: paste the output of\n"
        ".venv/bin/python -c 'from phone_sim.conformance.cases import CASES; from "
        "phone_sim.conformance.registry import markdown_table; "
        'print(markdown_table(CASES.values()), end="")\''
    )


def test_case_ids_are_numbered_by_area_and_groups_are_apart() -> None:
    for case_id, case in CASES.items():
        assert re.fullmatch(r"[A-Z]{3,4}-\d\d", case_id), case_id
        area = case_id.split("-")[0]
        assert (area == "POL") == (case.group is Group.POLICY), case_id
        assert (area == "OPT") == (case.group is Group.OPTIONAL), case_id
        assert (area == "ACC") == (case.group is Group.ACCOUNTS), case_id
        if case.group is Group.ACCOUNTS:
            assert case.needs == {Feature.ACCOUNTS} and case.policy is None
        if case.group is Group.POLICY:
            assert case.policy is PolicyName.STORY
        if case.group is Group.OPTIONAL:
            assert case.needs and case.policy is None
        if case.group is Group.PROTOCOL:  # what every server must do needs nothing declared
            assert not case.needs and case.policy is None


def test_every_case_cites_sections_that_exist() -> None:
    known = {doc: _headings(doc) for doc in ("PROTOCOL.md", "CONFORMANCE.md", "OPERATOR.md")}
    for case in CASES.values():
        for section in case.section.split(", "):
            assert section in known[case.doc], f"{case.id}: {case.doc} has no section {section}"


def test_every_negative_case_expects_an_error_of_section_9() -> None:
    protocol = (DOCS / "PROTOCOL.md").read_text(encoding="utf-8")
    table = protocol.split("## 9. Errors")[1].split("On the phone side")[0]
    errors = {
        (status, code) for status, code in re.findall(r"^\| (\d{3}) \| `(\w+)` \|", table, re.M)
    }
    errors |= {("404", "not_found"), ("405", "method_not_allowed")}  # the row that lists three
    for case in CASES.values():
        if case.kind is Kind.NEGATIVE:
            status, code = case.expect.split(",")[0].split(" ")[:2]
            assert (status, code) in errors, f"{case.id}: {case.expect}"


def test_a_features_file(tmp_path: Path) -> None:
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "admin.token").write_text("s3cret\n")
    path = tmp_path / "conformance.toml"
    path.write_text(
        'policy = "story"\nfeatures = ["admin-clock", "admin-devices"]\n'
        'admin_token_file = "vendor/admin.token"\n'
    )
    declared = load_features(path)
    assert declared.policy is PolicyName.STORY
    assert declared.features == {Feature.ADMIN_CLOCK, Feature.ADMIN_DEVICES}
    assert declared.admin_token == "s3cret"


def test_accounts_alone_need_no_admin_token(tmp_path: Path) -> None:
    path = tmp_path / "conformance.toml"
    path.write_text('features = ["accounts"]\n')
    declared = load_features(path)
    assert declared.features == {Feature.ACCOUNTS} and declared.admin_token is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('policy = "storry"\n', "conformance.toml:1: policy: must be one of 'story'"),
        ('features = ["admin-clok"]\nadmin_token_file = "t"\n', "did you mean 'admin-clock'"),
        ('features = ["admin-clock"]\n', "need admin_token_file"),
        ('features = ["accounts", "admin-devices"]\n', "need admin_token_file"),
        ('polcy = "story"\n', "did you mean 'policy'"),
        ('features = ["admin-clock", "admin-clock"]\nadmin_token_file = "t"\n', "twice"),
        (
            'features = ["admin-clock"]\nadmin_token_file = "missing.token"\n',
            "cannot read the admin token",
        ),
    ],
)
def test_a_bad_features_file_says_where_and_why(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / "t").write_text("token")
    path = tmp_path / "conformance.toml"
    path.write_text(text)
    with pytest.raises(KitSetupError) as refused:
        load_features(path)
    assert problem in str(refused.value)
    assert str(path) in str(refused.value)


def test_the_redactor_takes_out_the_token_and_private_keys() -> None:
    redact = Redactor(("s3cret-token",))
    text = (
        "> Authorization: Bearer s3cret-token\n"
        "body s3cret-token\n"
        "-----BEGIN PRIVATE KEY-----\nMIGHAgEA\n-----END PRIVATE KEY-----\n"
    )
    shown = redact(text)
    assert "s3cret-token" not in shown and "MIGHAgEA" not in shown
    assert "> Authorization: Bearer [redacted]" in shown
    assert "[redacted private key]" in shown
    assert Redactor()("Authorization: Bearer another-token") == "Authorization: Bearer [redacted]"


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("acc-3", "ACC-03"), ("ACC3", "ACC-03"), (" sig-22 ", "SIG-22"), ("HTTP-02", "HTTP-02")],
)
def test_a_case_id_is_taken_as_typed(typed: str, meant: str) -> None:
    assert typed_case_id(typed) == meant and meant in CASES


def test_the_docs_features_file_is_a_valid_one(tmp_path: Path) -> None:
    """docs/CONFORMANCE.md section 3's example, as written, declares every feature."""
    text = (DOCS / "CONFORMANCE.md").read_text(encoding="utf-8")
    example = text.split("## 3. The features file", 1)[1].split("```toml\n", 1)[1]
    path = tmp_path / "conformance.toml"
    path.write_text(example.split("```", 1)[0], encoding="utf-8")
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "admin.token").write_text("s3cret\n")
    declared = load_features(path)
    assert declared.features == set(Feature) and declared.policy is PolicyName.STORY
