"""The certificate planner and its cryptography: what is due, and what the CA issues."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.lanying.im.plugins.module_utils import _certificates as certs

NOW = 1_800_000_000
DAY = 86400


def make_ca(name="test CA"):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    start = datetime.datetime.fromtimestamp(NOW - DAY, datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(1).not_valid_before(start).not_valid_after(start + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem


CA_PEM, CA_KEY = make_ca()
NAMES = certs.wanted_names(["db1.example.test"], ["10.0.0.5"])


def issued(names=None, valid_days=397, ca=(CA_PEM, CA_KEY), now=NOW):
    key = certs.make_key()
    public = certs.public_key(key)
    return key, public, certs.issue(public, names or NAMES, ca[0], ca[1], valid_days, now)


def test_wanted_names_are_normalised_and_sorted():
    assert certs.wanted_names(["B.example", "a.example", "a.example"], ["fd00:0::1", "10.0.0.5"]) == [
        "DNS:a.example", "DNS:b.example", "IP:10.0.0.5", "IP:fd00::1"]


def test_an_issued_certificate_is_what_was_asked_for():
    _key, public, pem = issued()
    cert = x509.load_pem_x509_certificate(pem.encode())
    facts = certs.describe(pem)
    ca = certs.describe(CA_PEM)
    assert facts["names"] == NAMES
    assert facts["issuer"] == ca["subject"] and facts["authority_key_id"] == ca["subject_key_id"]
    assert facts["public_key"] == certs.spki_of(public)
    assert facts["not_after"] == NOW + 397 * DAY
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "db1.example.test"
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    # Signed by the CA's key: verification raises otherwise.
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(CA_PEM.encode()))


def test_a_current_certificate_stays():
    _key, public, pem = issued()
    key = {"public_key": certs.spki_of(public), "new": False}
    assert certs.due(certs.describe(pem), key, certs.describe(CA_PEM), NAMES, NOW, 30) == []


def test_every_reason_to_issue_is_named():
    _key, public, pem = issued(valid_days=20)
    other_public = certs.public_key(certs.make_key())
    ca = certs.describe(CA_PEM)
    current = certs.describe(pem)
    key = {"public_key": certs.spki_of(public), "new": False}
    assert certs.due(None, key, ca, NAMES, NOW, 30) == ["no certificate"]
    assert certs.due(current, key, ca, NAMES, NOW, 30) == ["expires within 30 days"]
    assert certs.due(current, key, ca, NAMES, NOW, 10) == []
    assert certs.due(current, {"public_key": certs.spki_of(other_public), "new": False}, ca, NAMES, NOW, 10) == [
        "the key changed"]
    assert certs.due(current, dict(key, new=True), ca, NAMES, NOW, 10) == ["the key changed"]
    wider = certs.wanted_names(["db1.example.test"], ["10.0.0.5", "10.0.0.6"])
    assert certs.due(current, key, ca, wider, NOW, 10) == [
        "names differ (has DNS:db1.example.test, IP:10.0.0.5, wants DNS:db1.example.test, IP:10.0.0.5, IP:10.0.0.6)"]


def test_a_certificate_of_another_ca_with_the_same_name_is_due():
    other_ca = make_ca()  # same subject, other key: only the key identifier tells them apart
    _key, public, pem = issued(ca=other_ca)
    key = {"public_key": certs.spki_of(public), "new": False}
    assert certs.due(certs.describe(pem), key, certs.describe(CA_PEM), NAMES, NOW, 30) == ["signed by another CA"]


def test_unreadable_keys_and_certificates_raise_value_errors():
    for call, argument in ((certs.public_key, "not a key"), (certs.describe, "not a certificate")):
        try:
            call(argument)
        except ValueError:
            continue
        raise AssertionError("%s accepted %r" % (call.__name__, argument))


def test_metrics_are_the_node_exporter_textfile():
    text = certs.metrics("postgres", "/etc/t/postgres.crt", 1700, "/etc/t/ca.crt", 1900)
    assert text.splitlines() == [
        "# HELP lanying_im_certificate_expiry_timestamp_seconds When a certificate of the platform stops being valid.",
        "# TYPE lanying_im_certificate_expiry_timestamp_seconds gauge",
        'lanying_im_certificate_expiry_timestamp_seconds{certificate="postgres",path="/etc/t/postgres.crt"} 1700',
        'lanying_im_certificate_expiry_timestamp_seconds{certificate="ca",path="/etc/t/ca.crt"} 1900']


def test_the_common_name_is_the_first_dns_name_as_given():
    # pgBackRest's tls-server-auth matches the common name only: it must be the host's name, even when an
    # address listed as a DNS name sorts first.
    dns, ips = ["zeta.example.test", "10.0.0.5"], ["10.0.0.5"]
    name = certs.common_name(dns, ips)
    public = certs.public_key(certs.make_key())
    pem = certs.issue(public, certs.wanted_names(dns, ips), CA_PEM, CA_KEY, 397, NOW, name)
    facts = certs.describe(pem)
    assert name == facts["common_name"] == "zeta.example.test"
    key = {"public_key": certs.spki_of(public), "new": False}
    ca = certs.describe(CA_PEM)
    assert certs.due(facts, key, ca, certs.wanted_names(dns, ips), NOW, 30, name) == []
    assert certs.due(facts, key, ca, certs.wanted_names(dns, ips), NOW, 30, "10.0.0.5") == [
        "common name differs (has zeta.example.test, wants 10.0.0.5)"]
    assert certs.common_name([], ["10.0.0.5"]) == "10.0.0.5"


def test_a_common_name_given_is_kept():
    assert certs.common_name(["db-1"], ["10.0.0.5"], "pgbackrest.db-1") == "pgbackrest.db-1"
    assert certs.common_name(["db-1"], ["10.0.0.5"], None) == "db-1"


def test_a_certificate_is_for_the_usages_asked_and_due_when_they_change():
    public = certs.public_key(certs.make_key())
    key = {"public_key": certs.spki_of(public), "new": False}
    ca = certs.describe(CA_PEM)
    server = certs.describe(certs.issue(public, NAMES, CA_PEM, CA_KEY, 397, NOW, usage=["server"]))
    both = certs.describe(certs.issue(public, NAMES, CA_PEM, CA_KEY, 397, NOW, usage=["server", "client"]))
    client = certs.describe(certs.issue(public, NAMES, CA_PEM, CA_KEY, 397, NOW, usage=["client"]))
    assert (server["usage"], both["usage"], client["usage"]) == (["server"], ["client", "server"], ["client"])
    assert certs.due(server, key, ca, NAMES, NOW, 30, usage=["server"]) == []
    assert certs.due(both, key, ca, NAMES, NOW, 30, usage=["server"]) == [
        "usage differs (has client, server, wants server)"]
    assert certs.due(server, key, ca, NAMES, NOW, 30, usage=certs.wanted_usage(["client", "server"])) == [
        "usage differs (has server, wants client, server)"]


@pytest.mark.parametrize("usage", [[], ["signing"], ["server", "email"]])
def test_an_unknown_usage_is_refused(usage):
    with pytest.raises(ValueError, match="usage must list server, client or both"):
        certs.wanted_usage(usage)
