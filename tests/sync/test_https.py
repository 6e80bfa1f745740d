"""HTTPS: the client trusts the bureau's CA from backend.ca_file, and refuses anything else."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import threading
import time
from pathlib import Path

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from backend.app import create_app
from backend.embedded import EmbeddedBackend
from kiosk.backend_client import BackendClient, Enrolled, ServiceUnavailable
from kiosk.signing import ReviewKey, create_key
from kiosk.store import Store
from kiosk.sync import SyncWorker


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test bureau CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(_pem_key(key))
    return paths


def test_https_with_the_bureau_ca_and_without_it(tmp_path: Path) -> None:
    ca, cert, key = _certificates(tmp_path)
    backend = EmbeddedBackend(data_dir=tmp_path / "backend")     # the real app; TLS in front of it
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(backend.services), ssl_certfile=str(cert),
                                           ssl_keyfile=str(key), log_config=None, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        url = f"https://127.0.0.1:{port}"
        signer = create_key(tmp_path / "kiosk.key")
        untrusting = BackendClient(url, "tls-kiosk-0001", signer, timeout_s=5.0)
        refused = untrusting.enroll(signer.public_key_b64, backend.enrollment_token("tls-kiosk-0001"))
        assert isinstance(refused, ServiceUnavailable) and "backend.ca_file" in refused.reason
        client = BackendClient(url, "tls-kiosk-0001", signer, timeout_s=5.0, ca_file=str(ca))
        assert isinstance(client.enroll(signer.public_key_b64, backend.enrollment_token("tls-kiosk-0001")),
                          Enrolled)
        assert isinstance(client.review_key(), ReviewKey)
        store = Store(tmp_path / "kiosk.sqlite3", kiosk_id="tls-kiosk-0001", signer=signer)
        store.commit_result("attempt_failed", {"n": 1})
        assert SyncWorker(store, client).drain_once().sent == 1
        store.close()
        client.close()                                      # open keep-alive connections delay shutdown
        untrusting.close()
    finally:
        server.should_exit = True
        thread.join(10)
        backend.stop()
