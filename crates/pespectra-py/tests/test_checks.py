"""The catalogue, checks on seeded instances and user matrices, certificates through verify."""

import json

import numpy as np
import pytest

import pespectra


def test_catalogue_lists_every_entry_with_its_expected_verdict():
    ts = pespectra.theorems()
    ids = [t.id for t in ts]
    assert len(ids) == 18 and len(set(ids)) == 18
    for t in ts:
        assert t.expected == ("FAILS" if t.id.startswith("R") else "HOLDS")


@pytest.mark.parametrize("t", [t.id for t in pespectra.theorems()])
def test_every_default_verdict_is_the_expected_one(t):
    r = pespectra.check(t, n=16)
    assert r.verdict == r.expected, r.detail
    assert bool(r) == (r.verdict == "HOLDS")
    if r.margin is not None:
        assert float(r.margin) >= 0


def test_user_matrices_t3_and_the_hypothesis_check():
    n = 6
    d = np.abs(np.subtract.outer(np.arange(n), np.arange(n))).astype(float)
    b = 0.5 * np.cos(0.3 * np.subtract.outer(np.arange(n), np.arange(n))) + 0.5 * np.eye(n)
    assert pespectra.check("T3", a=d, b=b).verdict == "HOLDS"
    # B without unit diagonal: the hypothesis is false and the check says so, not HOLDS
    r = pespectra.check("T3", a=d, b=2 * b)
    assert r.verdict != "HOLDS" and "hypothesis" in r.detail


def test_equality_case_is_decided():
    r = pespectra.check("T7", a=np.array([[3.5]]), b=np.array([[1.0]]))
    assert r.verdict == "HOLDS" and float(r.margin) == 0.0


def test_certificate_round_trip_and_tampering(tmp_path):
    p = tmp_path / "r1.json"
    r = pespectra.check("R1", n=8, certificate=p)
    assert r.verdict == "FAILS" and p.exists()
    for form in (r.certificate, p, str(p), json.dumps(r.certificate)):
        rep = pespectra.verify(form)
        assert rep and rep.verdict == "FAILS" and rep.claims_checked >= 1
    # move one claimed enclosure so that it no longer contains the eigenvalue
    bad = json.loads(json.dumps(r.certificate))
    claim = bad["claims"][0]
    claim["lo"], claim["hi"] = claim["hi"], claim["hi"]
    bad_text = json.dumps(bad)
    rep = pespectra.verify(bad_text)
    assert not rep and rep.message


def test_verify_refuses_unreadable_and_too_costly():
    with pytest.raises(ValueError, match="unreadable"):
        pespectra.verify("{not json")
    r = pespectra.check("T2", n=8, certificate=True)
    with pytest.raises(pespectra.TooCostlyError):
        pespectra.verify(r.certificate, max_work=1)
    with pytest.raises(FileNotFoundError):
        pespectra.verify("/nonexistent/cert.json")
