"""TLS off loopback: the desk trusts the centre's CA file and nothing else."""

from __future__ import annotations

import datetime as dt
import ipaddress
import threading
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.core.errors import EnvironmentProblem
from app.remote.gateway import RemoteGateway
from app.server.run import make_server
from tests.conftest import PASSWORD
from tests.server.conftest import free_port


def self_signed(folder, name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / f"{name}.crt", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def tls_server(ctx, tmp_path):
    cert, key = self_signed(tmp_path, "centre")
    port = free_port()
    server = make_server(ctx, "127.0.0.1", port, str(cert), str(key))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        time.sleep(0.01)
    yield f"https://127.0.0.1:{port}", cert
    server.should_exit = True
    thread.join()


def test_desk_signs_in_over_tls_with_the_centre_ca(tls_server, staff):
    url, cert = tls_server
    desk = RemoteGateway(url, ca_file=str(cert))
    desk.sign_in("op1", PASSWORD)
    assert desk.stage == "code"
    desk.close()


def test_desk_refuses_a_server_it_does_not_trust(tls_server, staff, tmp_path):
    url, _cert = tls_server
    other, _ = self_signed(tmp_path, "impostor")
    desk = RemoteGateway(url, ca_file=str(other))
    with pytest.raises(EnvironmentProblem, match="Cannot reach"):
        desk.sign_in("op1", PASSWORD)
    desk.close()
