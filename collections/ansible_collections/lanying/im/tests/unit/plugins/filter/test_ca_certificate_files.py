from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.lanying.im.plugins.filter.ca_certificate_files import FilterModule, ca_certificate_files

CERT = """-----BEGIN CERTIFICATE-----
MIIBhDCCASmgAwIBAgIUaPGaxobqpnKIFR+PP2HaNymJSgwwCgYIKoZIzj0EAwIw
FzEVMBMGA1UEAwwMdW5pdC10ZXN0LWNhMB4XDTI2MTEyODIwMzczMloXDTM2MTEy
NTIwMzczMlowFzEVMBMGA1UEAwwMdW5pdC10ZXN0LWNhMFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAEU9WYSBMlYC3quRNRxMiSEZXHD/TGwWDS98D1vjUh8JNiSRNe
eV/vh72rJNNZG+soLcgysd38a3YY1BHvF1pRrqNTMFEwHQYDVR0OBBYEFH8nlK0O
u+4ZmgOuAvFOKh1FLOPsMB8GA1UdIwQYMBaAFH8nlK0Ou+4ZmgOuAvFOKh1FLOPs
MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhAMhXw4dCG8M1Gc5k
0NsLOa7wdsTvh9R1LcMcOXxUiU4iAiEAl6geBCfsEFeZNThcXztVaVF/SwNf/E2X
8LW+sOv3qlE=
-----END CERTIFICATE-----
"""
KEY = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgAAAAAAAAAAAAAAAA
-----END PRIVATE KEY-----
"""
OTHER = "-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n"


@pytest.mark.parametrize(
    "sources, expected_names",
    [
        ({"files/root.pem": CERT}, ["root-1.crt"]),
        ({"/etc/pki/bundle.crt": CERT + "\n# comment\n" + CERT}, ["bundle-1.crt", "bundle-2.crt"]),
        ({"a.pem": CERT, "b.crt": CERT}, ["a-1.crt", "b-1.crt"]),
        ({"weird name (1).pem": CERT}, ["weird-name-1-1.crt"]),
        ({"with-crl.pem": OTHER + CERT}, ["with-crl-1.crt"]),
        ({".pem": CERT}, ["pem-1.crt"]),
        ({"---.pem": CERT}, ["ca-1.crt"]),
        ({}, []),
    ],
)
def test_names(sources, expected_names):
    assert [f["name"] for f in ca_certificate_files(sources)] == expected_names


def test_content_is_normalised_pem():
    messy = "\r\n".join(CERT.strip().splitlines()).replace("\n", "\n  ")
    (entry,) = ca_certificate_files({"x.pem": "leading text\n" + messy})
    assert entry["content"] == CERT
    assert entry["content"].endswith("-----END CERTIFICATE-----\n")


@pytest.mark.parametrize(
    "sources, message",
    [
        ("not a dict", "expects a mapping"),
        ({"empty.pem": ""}, "'empty.pem' holds no PEM certificate"),
        ({"crl.pem": OTHER}, "'crl.pem' holds no PEM certificate"),
        ({"key.pem": CERT + KEY}, "'key.pem' contains a PRIVATE KEY"),
        ({"cut.pem": CERT[:-30]}, "'cut.pem' has a PEM block without its END line"),
        ({"bad.pem": "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"}, "not valid base64"),
        ({"notder.pem": "-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n"}, "not a DER certificate"),
        ({"one/ca.pem": CERT, "two/ca.crt": CERT}, "would both install as 'ca'"),
        ({"bytes.pem": 42}, "must be text"),
    ],
)
def test_errors(sources, message):
    with pytest.raises(AnsibleFilterError, match="ca_certificate_files: .*"):
        try:
            ca_certificate_files(sources)
        except AnsibleFilterError as err:
            assert message in str(err)
            raise


def test_registered():
    assert FilterModule().filters()["ca_certificate_files"] is ca_certificate_files
