#!/usr/bin/python3
"""Writes the DKIM fixtures of tests/unit/test_dkim.c: messages signed by
dkimpy (python3-dkim) with the public key records to verify them. Run from the repository root:

    /usr/bin/python3 tests/data/dkim/make-fixtures.py

Keys are made once and kept (rsa.pem, ed25519.pem, ed25519.seed); t= is
fixed and both signature schemes are deterministic, so running it again
rewrites the same bytes. The outputs are checked in; the C tests only
read them.
"""
import base64
import os
import sys

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

HERE = os.path.dirname(os.path.abspath(__file__))
DOMAIN = b"example.org"
T = 1700000000

# Folded and padded headers, WSP runs, 8-bit text, trailing empty lines:
# what tells the canonicalizations apart.
MESSAGE = (
    b"Received: from client.example.net (client.example.net [192.0.2.7])\r\n"
    b"\tby mx.example.org with ESMTPS id 4Xy7Zk; Tue, 14 Nov 2023 22:13:20 +0000\r\n"
    b"From: =?utf-8?q?Ren=C3=A9e?= Dupont <renee@example.org>\r\n"
    b"To: Bob <bob@example.net>,\r\n"
    b"  Carol  <carol@example.net>\r\n"
    b"To: dave@example.net\r\n"
    b"Subject:   Quarterly   report,\tfolded\r\n"
    b" over two lines   \r\n"
    b"Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
    b"Message-ID: <20231114221320.4Xy7Zk@example.org>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"X-Mailer:facteur-fixtures\r\n"
    b"\r\n"
    b"Bonjour,  \r\n"
    b"\r\n"
    b"Voici le rapport \t trimestriel : \xc3\xa9t\xc3\xa9 \xe2\x82\xac.\r\n"
    b" Indented line\twith\t\ttabs.\r\n"
    b"\r\n"
    b"-- \r\n"
    b"Ren\xc3\xa9e\r\n"
    b"\r\n"
    b"\r\n"
)

CANONS = [(b"relaxed", b"relaxed"), (b"simple", b"simple"),
          (b"relaxed", b"simple"), (b"simple", b"relaxed")]


def path(name):
    return os.path.join(HERE, name)


def write(name, data):
    with open(path(name), "wb") as f:
        f.write(data)


def load_or_make_keys():
    if not os.path.exists(path("rsa.pem")):
        k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        write("rsa.pem", k.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption()))
    if not os.path.exists(path("ed25519.pem")):
        k = ed25519.Ed25519PrivateKey.generate()
        write("ed25519.pem", k.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
    with open(path("rsa.pem"), "rb") as f:
        rsa_pem = f.read()
    with open(path("ed25519.pem"), "rb") as f:
        ed = serialization.load_pem_private_key(f.read(), password=None)
    seed = ed.private_bytes(serialization.Encoding.Raw,
                            serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    write("ed25519.seed", base64.b64encode(seed) + b"\n")
    return rsa_pem, ed, base64.b64encode(seed)


def write_records(rsa_pem, ed):
    pub = serialization.load_pem_private_key(rsa_pem, password=None)
    spki = pub.public_key().public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo)
    raw = ed.public_key().public_bytes(serialization.Encoding.Raw,
                                       serialization.PublicFormat.Raw)
    records = {
        b"rsa": b"v=DKIM1; k=rsa; p=" + base64.b64encode(spki),
        b"ed": b"v=DKIM1; k=ed25519; p=" + base64.b64encode(raw),
    }
    write("rsa.txt", records[b"rsa"] + b"\n")
    write("ed25519.txt", records[b"ed"] + b"\n")
    return records


def sign_all(rsa_pem, seed, records):
    dkim.time.time = lambda: T      # a fixed t=: the output is stable
    lookup = {b"rsa._domainkey.example.org.": records[b"rsa"],
              b"ed._domainkey.example.org.": records[b"ed"]}
    names = []
    for alg, sel, key in ((b"rsa-sha256", b"rsa", rsa_pem),
                          (b"ed25519-sha256", b"ed", seed)):
        for hc, bc in CANONS:
            sig = dkim.sign(MESSAGE, sel, DOMAIN, key, canonicalize=(hc, bc),
                            signature_algorithm=alg)
            msg = sig + MESSAGE
            ok = dkim.verify(msg, dnsfunc=lambda n, timeout=5: lookup[n])
            if not ok:
                sys.exit("dkimpy cannot verify its own %s %s/%s" %
                         (alg, hc, bc))
            name = "dkimpy-%s-%s-%s.eml" % (sel.decode(), hc.decode(),
                                             bc.decode())
            write(name, msg)
            names.append(name)
    return names


def sign_extra(rsa_pem, records):
    """rsa-sha1 (which we must refuse, RFC 8301) and an l= signature."""
    lookup = {b"rsa._domainkey.example.org.": records[b"rsa"]}
    for name, kw in (("dkimpy-rsa-sha1.eml",
                      dict(signature_algorithm=b"rsa-sha1")),
                     ("dkimpy-rsa-length.eml", dict(length=True))):
        sig = dkim.sign(MESSAGE, b"rsa", DOMAIN, rsa_pem,
                        canonicalize=(b"relaxed", b"relaxed"), **kw)
        if not dkim.verify(sig + MESSAGE,
                           dnsfunc=lambda n, timeout=5: lookup[n]):
            sys.exit("dkimpy cannot verify its own " + name)
        write(name, sig + MESSAGE)
        yield name


def main():
    rsa_pem, ed, seed = load_or_make_keys()
    records = write_records(rsa_pem, ed)
    for name in sign_all(rsa_pem, seed, records):
        print("wrote", name)
    for name in sign_extra(rsa_pem, records):
        print("wrote", name)


if __name__ == "__main__":
    main()
