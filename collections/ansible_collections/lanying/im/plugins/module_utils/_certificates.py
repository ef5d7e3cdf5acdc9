# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host certificates: what is on a host, whether each one is due, and issuing from the CA.

The planner (``due``) is pure: it compares facts (plain dicts) about the current certificate, the
key and the CA with what is wanted. ``describe`` turns PEM into those facts; ``make_key``,
``public_key`` and ``issue`` do the cryptography (the key on the host, the signature on the
controller). ``metrics`` renders the expiry gauges the node exporter publishes.
"""

from __future__ import annotations

import datetime
import ipaddress

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the callers
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_ERROR = str(exc)

METRIC = "lanying_im_certificate_expiry_timestamp_seconds"
# What a certificate may be used for (its extended key usage): answering as a TLS server, connecting as a
# TLS client with it.
USAGES = ("server", "client")


def _usage_oids():
    return {"server": ExtendedKeyUsageOID.SERVER_AUTH, "client": ExtendedKeyUsageOID.CLIENT_AUTH}


def wanted_usage(usage):
    """The usages wanted, checked and sorted; raises ValueError for an unknown or an empty list."""
    found = sorted(set(usage or []))
    unknown = [item for item in found if item not in USAGES]
    if unknown or not found:
        raise ValueError("usage must list server, client or both (got %s)" % (", ".join(usage or []) or "none"))
    return found


def wanted_names(dns, ips):
    """The subject alternative names wanted, normalised and sorted ('DNS:name', 'IP:address')."""
    names = ["DNS:" + name.strip().lower() for name in dns or []]
    names += ["IP:" + str(ipaddress.ip_address(address.strip())) for address in ips or []]
    return sorted(set(names))


def _epoch(moment):
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return int(moment.timestamp())


def _not_after(cert):
    value = getattr(cert, "not_valid_after_utc", None)
    return value if value is not None else cert.not_valid_after


def _key_id(cert, extension, attribute):
    try:
        value = cert.extensions.get_extension_for_class(extension).value
    except x509.ExtensionNotFound:
        return None
    data = getattr(value, attribute)
    return data.hex() if data else None


def _spki(key):
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo).hex()


def describe(pem):
    """Facts about a PEM certificate: subject, issuer, key identifiers, names, expiry, public key."""
    cert = x509.load_pem_x509_certificate(pem.encode() if isinstance(pem, str) else pem)
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = ["DNS:" + name.lower() for name in sans.get_values_for_type(x509.DNSName)]
        names += ["IP:" + str(address) for address in sans.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        names = []
    common_names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    try:
        purposes = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        usage = sorted(name for name, oid in _usage_oids().items() if oid in purposes)
    except x509.ExtensionNotFound:
        usage = []
    return {
        "subject": cert.subject.rfc4514_string(),
        "common_name": common_names[0].value if common_names else None,
        "issuer": cert.issuer.rfc4514_string(),
        "authority_key_id": _key_id(cert, x509.AuthorityKeyIdentifier, "key_identifier"),
        "subject_key_id": _key_id(cert, x509.SubjectKeyIdentifier, "digest"),
        "names": sorted(set(names)),
        "usage": usage,
        "not_after": _epoch(_not_after(cert)),
        "public_key": _spki(cert.public_key()),
    }


def common_name(dns, ips, name=None):
    """The subject's common name: the one given, else the first DNS name as given (services that check only
    the CN, such as pgBackRest's tls-server-auth, match it), else the first address."""
    return name or (list(dns or []) + list(ips or []))[0]


def due(current, key, ca, names, now, renew_days, name=None, usage=None):
    """Why a certificate must be issued; an empty list when the current one stays.

    current: describe() of the installed certificate, or None; key: {'public_key': ..., 'new': bool}
    (public_key None when there is no key yet); ca: describe() of the CA certificate; names: wanted_names();
    now: seconds since the epoch; renew_days: reissue this many days before expiry; name: the common name
    wanted (common_name()), unchecked when None; usage: wanted_usage(), unchecked when None.
    """
    if current is None:
        return ["no certificate"]
    reasons = []
    if key.get("new") or key.get("public_key") != current["public_key"]:
        reasons.append("the key changed")
    if current["not_after"] - now < renew_days * 86400:
        reasons.append("expires within %d days" % renew_days)
    if current["issuer"] != ca["subject"] or (
            current.get("authority_key_id") and ca.get("subject_key_id")
            and current["authority_key_id"] != ca["subject_key_id"]):
        reasons.append("signed by another CA")
    if current["names"] != names:
        reasons.append("names differ (has %s, wants %s)" % (", ".join(current["names"]) or "none", ", ".join(names)))
    if name is not None and current.get("common_name") != name:
        reasons.append("common name differs (has %s, wants %s)" % (current.get("common_name"), name))
    if usage is not None and current.get("usage") != usage:
        has = ", ".join(current.get("usage") or []) or "none"
        reasons.append("usage differs (has %s, wants %s)" % (has, ", ".join(usage)))
    return reasons


def make_key():
    """A new EC P-256 private key, PEM (SEC 1, unencrypted)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


def public_key(key_pem):
    """The public key (PEM) of a PEM private key; raises ValueError when it cannot be read."""
    key = serialization.load_pem_private_key(key_pem.encode() if isinstance(key_pem, str) else key_pem, None)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def spki_of(public_pem):
    """The hex DER SubjectPublicKeyInfo of a PEM public key (what describe() returns as public_key)."""
    return _spki(serialization.load_pem_public_key(public_pem.encode()))


def issue(public_pem, names, ca_pem, ca_key_pem, valid_days, now, name=None, usage=("server",)):
    """A certificate (PEM) for the public key, names and common name (default: the first DNS name of
    names, else the first), for the usages given (server, client), signed by the CA, valid from now for
    valid_days."""
    purposes = [_usage_oids()[item] for item in wanted_usage(usage)]
    ca_cert = x509.load_pem_x509_certificate(ca_pem.encode())
    ca_key = serialization.load_pem_private_key(ca_key_pem.encode(), None)
    subject_key = serialization.load_pem_public_key(public_pem.encode())
    general = []
    for entry in names:
        kind, value = entry.split(":", 1)
        general.append(x509.DNSName(value) if kind == "DNS" else x509.IPAddress(ipaddress.ip_address(value)))
    if name is None:
        dns_first = [entry for entry in names if entry.startswith("DNS:")] or names
        name = dns_first[0].split(":", 1)[1]
    start = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
    try:
        ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        authority = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski)
    except x509.ExtensionNotFound:
        authority = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_cert.subject)
        .public_key(subject_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start - datetime.timedelta(minutes=5))
        .not_valid_after(start + datetime.timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=True, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(purposes), critical=False)
        .add_extension(x509.SubjectAlternativeName(general), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key), critical=False)
        .add_extension(authority, critical=False)
    )
    return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def metrics(name, path, not_after, ca_path, ca_not_after):
    """The node exporter textfile of one certificate's expiry and its CA's."""
    return (
        "# HELP %s When a certificate of the platform stops being valid.\n"
        "# TYPE %s gauge\n"
        '%s{certificate="%s",path="%s"} %d\n'
        '%s{certificate="ca",path="%s"} %d\n'
    ) % (METRIC, METRIC, METRIC, name, path, not_after, METRIC, ca_path, ca_not_after)
