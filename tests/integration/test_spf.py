"""SPF (RFC 7208) through `facteur spf IP SENDER HELO`, against SPF records
served by dnsmasq on loopback, each case cross-checked with Debian's pyspf
(python3-spf) pointed at the same dnsmasq through dnspython.

CASES is the table: one row per (client IP, sender, HELO) with the line
`facteur spf` must print ("<result>[: explanation]"). pyspf must give the
same result (and the same explanation for a fail with exp=), except where
a row says why it differs.

Then the openspf.org RFC 7208 test suite (release 2014.04, shipped by
python3-spf): every scenario's zone is served by a small authoritative
server (dnspython, below: dnsmasq cannot serve CNAMEs to its own records
nor fail one name without its subdomains), and every test must give one
of its accepted results (SUITE_DIFFERS lists the few that cannot, and
why).

Addresses: 192.0.2.0/24 and 2001:db8::/32 for the mechanisms; PTR cases
use 198.18.0.0/15, because libunbound answers the reverse zones of the
documentation prefixes itself (RFC 6303 local zones). A name outside .test
gets REFUSED from dnsmasq: that is how a DNS error (temperror) is made.
"""
import gzip
import ipaddress
import os
import socket
import subprocess
from pathlib import Path

import pytest

from conftest import BIN, SANITIZER_MARKERS, DnsServer

HOSTNAME = "mail.example.test"


def nibbles(ip6):
    """%{ir} of an IPv6 address: its nibbles, dotted, reversed."""
    return ".".join(reversed(ipaddress.IPv6Address(ip6).exploded.replace(":", "")))


TXT = [
    # ip4, ip6, qualifiers, the default result.
    ("ip.test", "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8:1::/48 -all"),
    ("cidr.test", "v=spf1 ip4:192.0.2.128/25 ip6:2001:db8:2::/64 -all"),
    ("softfail.test", "v=spf1 ip4:192.0.2.10 ~all"),
    ("neutral.test", "v=spf1 ?ip4:192.0.2.10 ?all"),
    ("qual.test", "v=spf1 -ip4:192.0.2.10 ~ip4:192.0.2.11 ?ip4:192.0.2.12 +all"),
    ("empty.test", "v=spf1"),
    ("case.test", "V=SPF1 IP4:192.0.2.5 -ALL"),
    # a, mx, ptr, exists.
    ("a.test", "v=spf1 a -all"),
    ("a-host.test", "v=spf1 a:www.a-host.test/28 -all"),
    ("a-dual.test", "v=spf1 a:a.test/24//64 -all"),
    ("mx.test", "v=spf1 mx -all"),
    ("mx-host.test", "v=spf1 mx:mx.test/30 -all"),
    ("mx-many.test", "v=spf1 mx -all"),
    ("mx-none.test", "v=spf1 mx ip4:192.0.2.10 -all"),
    ("ptr.test", "v=spf1 ptr -all"),
    ("ptr-host.test", "v=spf1 ptr:ptr.test -all"),
    ("exists.test", "v=spf1 exists:%{ir}.%{l}._spf.%{d} -all"),
    # Macros.
    ("macro-h.test", "v=spf1 exists:%{h}._helo.%{d} -all"),
    ("macro-i6.test", "v=spf1 exists:%{ir}.%{v}._spf.%{d} -all"),
    ("macro-l.test", "v=spf1 exists:%{l1r-}.lp._spf.%{d} -all"),
    ("macro-p.test", "v=spf1 exists:%{p}._p.%{d} -all"),
    ("macro-d.test", "v=spf1 a:%{d2}.example.test -all"),
    # include and redirect.
    ("inc.test", "v=spf1 include:softfail.test include:a.test -all"),
    ("inc-neg.test", "v=spf1 -include:ip.test +all"),
    ("inc-none.test", "v=spf1 include:nothing.test -all"),
    ("inc-perm.test", "v=spf1 include:syntax.test +all"),
    ("inc-temp.test", "v=spf1 include:x.tempfail.example +all"),
    ("inc-chain.test", "v=spf1 include:inc.test -all"),
    ("redir.test", "v=spf1 redirect=ip.test"),
    ("redir-mech.test", "v=spf1 ip4:198.51.100.1 redirect=ip.test"),
    ("redir-all.test", "v=spf1 -all redirect=ip.test"),
    ("redir-none.test", "v=spf1 redirect=nothing.test"),
    ("redir-macro.test", "v=spf1 redirect=_spf.%{d}"),
    ("_spf.redir-macro.test", "v=spf1 ip4:192.0.2.0/24 -all"),
    # Limits (RFC 7208 4.6.4).
    ("loop.test", "v=spf1 include:loop.test -all"),
    ("redir-loop.test", "v=spf1 redirect=redir-loop.test"),
    ("limit.test", "v=spf1 a a a a a a a a a a a ip4:192.0.2.5 -all"),
    ("limit10.test", "v=spf1 a a a a a a a a a a ip4:192.0.2.5 -all"),
    ("limit-inc.test", "v=spf1 include:limit10.test -all"),
    ("void.test", "v=spf1 a:nx1.test a:nx2.test a:nx3.test ip4:192.0.2.5 -all"),
    ("void2.test", "v=spf1 a:nx1.test a:nx2.test ip4:192.0.2.5 -all"),
    ("tempfail.test", "v=spf1 a:x.tempfail.example ip4:192.0.2.5 -all"),
    # Record selection and syntax (RFC 7208 4.5, 4.6).
    ("multi.test", "v=spf1 ip4:192.0.2.5 -all"),
    ("multi.test", "v=spf1 -all"),
    ("other-txt.test", "site-verification=abc123"),
    ("other-txt.test", "v=spf1 ip4:192.0.2.5 -all"),
    ("spf10.test", "v=spf10 +all"),
    ("syntax.test", "v=spf1 ip4:192.0.2.300 -all"),
    ("syntax-port.test", "v=spf1 a:example.test:8080 -all"),
    ("syntax-late.test", "v=spf1 ip4:192.0.2.5 moo -all"),
    ("syntax-macro.test", "v=spf1 exists:%{z}.example.test -all"),
    ("unknown-mod.test", "v=spf1 foo=bar ip4:192.0.2.5 -all"),
    ("helo.test", "v=spf1 ip4:192.0.2.5 -all"),
    # Explanations (RFC 7208 6.2).
    ("exp.test", "v=spf1 ip4:192.0.2.5 -all exp=why.exp.test"),
    ("why.exp.test", "%{i} is not one of %{d}'s designated mail servers."),
    ("exp-macro.test", "v=spf1 -all exp=%{d}._exp.exp-macro.test"),
    ("exp-macro.test._exp.exp-macro.test",
     "Mail from %{s} via %{c} (helo %{h}) refused by %{r} for %{o}"),
    ("exp-upper.test", "v=spf1 -all exp=up.exp-upper.test"),
    ("up.exp-upper.test", "see http://example.test/why?s=%{S}"),
    ("exp-missing.test", "v=spf1 -all exp=nowhere.test"),
    ("exp-multi.test", "v=spf1 -all exp=multi-exp.test"),
    ("multi-exp.test", "one"),
    ("multi-exp.test", "two"),
    ("exp-bad.test", "v=spf1 -all exp=bad-exp.test"),
    ("bad-exp.test", "bad %{z} macro"),
    ("exp-redir.test", "v=spf1 exp=why.exp.test redirect=exp2.test"),
    ("exp2.test", "v=spf1 -all exp=why2.exp.test"),
    ("why2.exp.test", "redirected to %{d}"),
    ("exp-inc.test", "v=spf1 -include:exp.test +all"),
    ("exp-p.test", "v=spf1 -all exp=why.exp-p.test"),
    ("why.exp-p.test", "%{c} is %{p}"),
]

A = [
    ("a.test", "192.0.2.20"), ("a.test", "2001:db8:1::20"),
    ("www.a-host.test", "192.0.2.33"),
    ("mx1.mx.test", "192.0.2.41"), ("mx2.mx.test", "192.0.2.42"),
    ("mx2.mx.test", "2001:db8:1::42"),
    ("host.ptr.test", "198.18.0.5"),
    ("10.2.0.192.alice._spf.exists.test", "127.0.0.2"),
    ("good.helo.test._helo.macro-h.test", "127.0.0.2"),
    (nibbles("2001:db8:1::99") + ".ip6._spf.macro-i6.test", "127.0.0.2"),
    ("strong.lp._spf.macro-l.test", "127.0.0.2"),
    ("host.ptr.test._p.macro-p.test", "127.0.0.2"),
    ("macro-d.test.example.test", "192.0.2.77"),
    ("limit.test", "192.0.2.250"), ("limit10.test", "192.0.2.250"),
]

MX = [("mx.test", "mx1.mx.test", 10), ("mx.test", "mx2.mx.test", 20)] + [
    ("mx-many.test", f"mx{i}.mx-many.test", i) for i in range(11)]

PTR = [("198.18.0.6", "host.ptr.test")]   # does not validate: A is .5

# (id, ip, sender, helo, want, pyspf's result when it differs, or None)
CASES = [
    ("ip4-pass", "192.0.2.5", "alice@ip.test", "h.test", "pass", None),
    ("ip4-fail", "198.51.100.1", "alice@ip.test", "h.test", "fail", None),
    ("ip6-pass", "2001:db8:1::5", "alice@ip.test", "h.test", "pass", None),
    ("ip6-fail", "2001:db8:9::5", "alice@ip.test", "h.test", "fail", None),
    ("ip4-mapped", "::ffff:192.0.2.5", "alice@ip.test", "h.test", "pass", None),
    ("cidr4-in", "192.0.2.200", "alice@cidr.test", "h.test", "pass", None),
    ("cidr4-out", "192.0.2.100", "alice@cidr.test", "h.test", "fail", None),
    ("cidr6-in", "2001:db8:2::ffff", "alice@cidr.test", "h.test", "pass", None),
    ("cidr6-out", "2001:db8:2:1::1", "alice@cidr.test", "h.test", "fail", None),
    ("softfail", "192.0.2.99", "alice@softfail.test", "h.test", "softfail", None),
    ("neutral-mech", "192.0.2.10", "alice@neutral.test", "h.test", "neutral", None),
    ("neutral-all", "192.0.2.99", "alice@neutral.test", "h.test", "neutral", None),
    ("qual-minus", "192.0.2.10", "alice@qual.test", "h.test", "fail", None),
    ("qual-tilde", "192.0.2.11", "alice@qual.test", "h.test", "softfail", None),
    ("qual-question", "192.0.2.12", "alice@qual.test", "h.test", "neutral", None),
    ("qual-plus", "192.0.2.13", "alice@qual.test", "h.test", "pass", None),
    ("default-neutral", "192.0.2.5", "alice@empty.test", "h.test", "neutral", None),
    ("uppercase-record", "192.0.2.5", "alice@case.test", "h.test", "pass", None),
    ("a-pass", "192.0.2.20", "alice@a.test", "h.test", "pass", None),
    ("a-fail", "192.0.2.21", "alice@a.test", "h.test", "fail", None),
    ("a-aaaa", "2001:db8:1::20", "alice@a.test", "h.test", "pass", None),
    ("a-host-cidr", "192.0.2.40", "alice@a-host.test", "h.test", "pass", None),
    ("a-host-cidr-out", "192.0.2.48", "alice@a-host.test", "h.test", "fail", None),
    ("a-dual4", "192.0.2.254", "alice@a-dual.test", "h.test", "pass", None),
    ("a-dual6", "2001:db8:1::abcd", "alice@a-dual.test", "h.test", "pass", None),
    ("a-dual6-out", "2001:db8:1:1::1", "alice@a-dual.test", "h.test", "fail", None),
    ("mx-first", "192.0.2.41", "alice@mx.test", "h.test", "pass", None),
    ("mx-second", "192.0.2.42", "alice@mx.test", "h.test", "pass", None),
    ("mx-aaaa", "2001:db8:1::42", "alice@mx.test", "h.test", "pass", None),
    ("mx-fail", "192.0.2.43", "alice@mx.test", "h.test", "fail", None),
    ("mx-host-cidr", "192.0.2.43", "alice@mx-host.test", "h.test", "pass", None),
    ("mx-host-cidr-out", "192.0.2.44", "alice@mx-host.test", "h.test", "fail", None),
    ("mx-eleven", "192.0.2.5", "alice@mx-many.test", "h.test", "permerror", None),
    ("mx-none", "192.0.2.10", "alice@mx-none.test", "h.test", "pass", None),
    ("ptr-pass", "198.18.0.5", "alice@ptr.test", "h.test", "pass", None),
    ("ptr-not-validated", "198.18.0.6", "alice@ptr.test", "h.test", "fail", None),
    ("ptr-no-ptr", "198.18.0.7", "alice@ptr.test", "h.test", "fail", None),
    ("ptr-suffix", "198.18.0.5", "alice@ptr-host.test", "h.test", "pass", None),
    ("exists-pass", "192.0.2.10", "alice@exists.test", "h.test", "pass", None),
    ("exists-fail-ip", "192.0.2.11", "alice@exists.test", "h.test", "fail", None),
    ("exists-fail-local", "192.0.2.10", "bob@exists.test", "h.test", "fail", None),
    ("exists-ip6-client", "2001:db8:1::99", "x@macro-i6.test", "h.test", "pass", None),
    ("macro-h", "192.0.2.1", "alice@macro-h.test", "good.helo.test", "pass", None),
    ("macro-h-other", "192.0.2.1", "alice@macro-h.test", "bad.helo.test", "fail", None),
    ("macro-l-reversed", "192.0.2.1", "strong-bad@macro-l.test", "h.test", "pass", None),
    ("macro-p-valid", "198.18.0.5", "alice@macro-p.test", "h.test", "pass", None),
    ("macro-p-unknown", "198.18.0.6", "alice@macro-p.test", "h.test", "fail", None),
    ("macro-d2", "192.0.2.77", "alice@macro-d.test", "h.test", "pass", None),
    ("include-pass", "192.0.2.10", "alice@inc.test", "h.test", "pass", None),
    ("include-softfail-skipped", "192.0.2.20", "alice@inc.test", "h.test", "pass", None),
    ("include-nomatch", "192.0.2.99", "alice@inc.test", "h.test", "fail", None),
    ("include-qualifier", "192.0.2.5", "alice@inc-neg.test", "h.test", "fail", None),
    ("include-qualifier-nomatch", "198.51.100.1", "alice@inc-neg.test", "h.test", "pass", None),
    ("include-none", "192.0.2.5", "alice@inc-none.test", "h.test", "permerror", None),
    ("include-permerror", "192.0.2.5", "alice@inc-perm.test", "h.test", "permerror", None),
    ("include-temperror", "192.0.2.5", "alice@inc-temp.test", "h.test", "temperror", None),
    ("include-chain", "192.0.2.20", "alice@inc-chain.test", "h.test", "pass", None),
    ("include-chain-fail", "192.0.2.99", "alice@inc-chain.test", "h.test", "fail", None),
    ("redirect-pass", "192.0.2.5", "alice@redir.test", "h.test", "pass", None),
    ("redirect-fail", "198.51.100.1", "alice@redir.test", "h.test", "fail", None),
    ("redirect-after-mech", "198.51.100.1", "alice@redir-mech.test", "h.test", "pass", None),
    ("redirect-ignored", "192.0.2.5", "alice@redir-all.test", "h.test", "fail", None),
    ("redirect-none", "192.0.2.5", "alice@redir-none.test", "h.test", "permerror", None),
    ("redirect-macro", "192.0.2.5", "alice@redir-macro.test", "h.test", "pass", None),
    ("include-loop", "192.0.2.5", "alice@loop.test", "h.test", "permerror", None),
    ("redirect-loop", "192.0.2.5", "alice@redir-loop.test", "h.test", "permerror", None),
    ("limit-11-terms", "192.0.2.5", "alice@limit.test", "h.test", "permerror", None),
    ("limit-10-terms", "192.0.2.5", "alice@limit10.test", "h.test", "pass", None),
    ("limit-with-include", "192.0.2.5", "alice@limit-inc.test", "h.test", "permerror", None),
    ("void-3", "192.0.2.5", "alice@void.test", "h.test", "permerror", None),
    ("void-2", "192.0.2.5", "alice@void2.test", "h.test", "pass", None),
    ("dns-error", "192.0.2.5", "alice@tempfail.test", "h.test", "temperror", None),
    ("dns-error-record", "192.0.2.5", "alice@x.tempfail.example", "h.test", "temperror", None),
    ("two-records", "192.0.2.5", "alice@multi.test", "h.test", "permerror", None),
    ("other-txt-ignored", "192.0.2.5", "alice@other-txt.test", "h.test", "pass", None),
    ("spf10-is-not-spf1", "192.0.2.5", "alice@spf10.test", "h.test", "none", None),
    ("no-record", "192.0.2.5", "alice@www.a-host.test", "h.test", "none", None),
    ("nxdomain", "192.0.2.5", "alice@nothing.test", "h.test", "none", None),
    ("malformed-domain", "192.0.2.5", "alice@bad..test", "h.test", "none", None),
    ("syntax-ip4", "192.0.2.5", "alice@syntax.test", "h.test", "permerror", None),
    ("syntax-port", "192.0.2.5", "alice@syntax-port.test", "h.test", "permerror", None),
    ("syntax-after-match", "192.0.2.5", "alice@syntax-late.test", "h.test", "permerror", None),
    ("syntax-macro", "192.0.2.5", "alice@syntax-macro.test", "h.test", "permerror", None),
    ("unknown-modifier", "192.0.2.5", "alice@unknown-mod.test", "h.test", "pass", None),
    ("helo-null-sender", "192.0.2.5", "", "helo.test", "pass", None),
    ("helo-null-sender-fail", "192.0.2.6", "", "helo.test", "fail", None),
    ("exp-pass-has-none", "192.0.2.5", "alice@exp.test", "h.test", "pass", None),
    ("exp-fail", "192.0.2.99", "alice@exp.test", "h.test",
     "fail: 192.0.2.99 is not one of exp.test's designated mail servers.", None),
    ("exp-macros", "2001:db8::1", "alice@exp-macro.test", "h.example.test",
     "fail: Mail from alice@exp-macro.test via 2001:db8::1 (helo h.example.test) "
     "refused by mail.example.test for exp-macro.test", None),
    ("exp-url-encoded", "192.0.2.9", "a+b@exp-upper.test", "h.test",
     "fail: see http://example.test/why?s=a%2Bb%40exp-upper.test", None),
    ("exp-missing", "192.0.2.9", "alice@exp-missing.test", "h.test", "fail", None),
    ("exp-two-records", "192.0.2.9", "alice@exp-multi.test", "h.test", "fail", None),
    ("exp-bad-macro", "192.0.2.9", "alice@exp-bad.test", "h.test", "fail", None),
    ("exp-from-redirect", "192.0.2.9", "alice@exp-redir.test", "h.test",
     "fail: redirected to exp2.test", None),
    ("exp-not-from-include", "192.0.2.5", "alice@exp-inc.test", "h.test", "fail", None),
    ("exp-p-macro", "198.18.0.5", "alice@exp-p.test", "h.test",
     "fail: 198.18.0.5 is host.ptr.test", None),
]


@pytest.fixture(scope="module")
def spf_dns(tmp_path_factory):
    d = DnsServer(tmp_path_factory.mktemp("spfdns"), txt=TXT, a=A, mx=MX, ptr=PTR)
    yield d
    d.stop()


@pytest.fixture
def spf_cli(spf_dns, make_facteur):
    """spf_cli(ip, sender, helo) -> the line `facteur spf` printed."""
    f = make_facteur(hostname=HOSTNAME, extra={"dns.resolver": spf_dns.resolver})

    def run(ip, sender, helo):
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        r = subprocess.run([BIN, "spf", ip, sender, helo, "-c", str(f.conf)],
                           capture_output=True, text=True, timeout=60, env=env)
        bad = [m for m in SANITIZER_MARKERS if m in r.stderr]
        assert not bad, f"sanitizer report:\n{r.stderr}"
        assert r.returncode == 0, f"exit {r.returncode}: {r.stdout}{r.stderr}"
        return r.stdout.strip(), r.stderr.strip()
    return run


@pytest.fixture(scope="module")
def pyspf(spf_dns):
    """pyspf.check2 answering from our dnsmasq (dnspython resolver)."""
    spf = pytest.importorskip("spf")
    resolver = pytest.importorskip("dns.resolver")
    saved = resolver.default_resolver
    r = resolver.Resolver(configure=False)
    r.nameservers = ["127.0.0.1"]
    r.port = spf_dns.port
    resolver.default_resolver = r

    def check(ip, sender, helo):
        return spf.check2(i=ip, s=sender, h=helo, receiver=HOSTNAME)
    yield check
    resolver.default_resolver = saved


@pytest.mark.parametrize("name,ip,sender,helo,want,py_want", CASES,
                         ids=[c[0] for c in CASES])
def test_spf_table(spf_cli, pyspf, name, ip, sender, helo, want, py_want):
    got, why = spf_cli(ip, sender, helo)
    assert got == want, f"facteur spf {ip} {sender!r} {helo}: got {got!r} ({why}), want {want!r}"
    result, _, explanation = want.partition(": ")
    py_result, py_exp = pyspf(ip, sender, helo)
    assert py_result == (py_want or result), f"pyspf: {py_result} ({py_exp})"
    if explanation:
        assert py_exp == explanation, "pyspf explains it differently"


def test_spf_usage(spf_cli, make_facteur):
    f = make_facteur()
    for args in (["spf"], ["spf", "192.0.2.1"], ["spf", "not-an-ip", "a@b.test"],
                 ["spf", "192.0.2.1", ""], ["spf", "1", "2", "3", "4"]):
        r = subprocess.run([BIN, *args, "-c", str(f.conf)], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "usage: facteur spf" in r.stderr


def test_spf_helo_optional(spf_dns, make_facteur):
    """Without HELO, %{h} is the sender's domain."""
    f = make_facteur(extra={"dns.resolver": spf_dns.resolver})
    for sender, want in (("alice@ip.test", "pass"), ("alice@macro-h.test", "fail")):
        r = subprocess.run([BIN, "spf", "192.0.2.5", sender, "-c", str(f.conf)],
                           capture_output=True, text=True, timeout=60)
        assert (r.returncode, r.stdout.strip()) == (0, want), r.stderr


def run_cli(conf, ip, sender, helo):
    """`facteur spf` -> (stdout line, stderr); fails on a sanitizer report."""
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    r = subprocess.run([BIN, "spf", ip, sender, helo, "-c", str(conf)],
                       capture_output=True, text=True, timeout=60, env=env)
    bad = [m for m in SANITIZER_MARKERS if m in r.stderr]
    assert not bad, f"sanitizer report:\n{r.stderr}"
    assert r.returncode == 0, f"exit {r.returncode}: {r.stdout}{r.stderr}"
    return r.stdout.strip(), r.stderr.strip()


# --- The RFC 7208 test suite -------------------------------------------

SUITE = Path("/usr/share/doc/python3-spf/rfc7208-tests.yml.gz")

# Tests this setup cannot reproduce, and why. Everything else must pass.
# The PTR ones pass when dns.c also lifts those two reverse zones.
_LOCAL_ZONE = ("its PTR lookup is in a reverse zone libunbound answers itself "
               "(RFC 6303 local zones; dns.c lifts only 127/8 and ::1): %s")
SUITE_DIFFERS = {
    "null-text": "libunbound refuses an answer holding a TXT record with no "
                 "string at all (illegal, RFC 1035 3.3.14): a DNS error, so "
                 "temperror where the suite expects the other record to pass",
    "ptr-case-change": _LOCAL_ZONE % "2001:db8::/32",
    "bytes-bug": _LOCAL_ZONE % "2001:db8::/32",
    "p-macro-ip4-valid": _LOCAL_ZONE % "192.168/16",
    "p-macro-multiple": _LOCAL_ZONE % "192.168/16",
}


def load_suite():
    try:
        import yaml
        with gzip.open(SUITE, "rt", encoding="utf-8") as f:
            return list(yaml.safe_load_all(f))
    except (ImportError, OSError):
        return []


SUITE_DOCS = load_suite()
SUITE_CASES = [(n, tid) for n, doc in enumerate(SUITE_DOCS) for tid in doc["tests"]]


def suite_zone(zonedata):
    """A scenario's zone as pyspf's own driver (testspf.py) reads it: an
    SPF record is a TXT record too when its name has no TXT of its own;
    a bare TIMEOUT makes every query for the name fail."""
    zone = {}
    for name, records in zonedata.items():
        out = zone.setdefault(name.rstrip(".").lower(), [])
        has_txt = any(isinstance(r, dict) and "TXT" in r for r in records)
        for rec in records:
            if rec == "TIMEOUT":
                out.append(rec)
                continue
            (rtype, value), = rec.items()
            if rtype == "SPF":
                if has_txt:
                    continue
                rtype = "TXT"
            if value != "NONE":
                out.append((rtype, value))
    return zone


def suite_rdata(rtype, value):
    import dns.name
    import dns.rdata
    import dns.rdataclass as C
    import dns.rdatatype as T
    from dns.rdtypes.ANY.CNAME import CNAME
    from dns.rdtypes.ANY.MX import MX
    from dns.rdtypes.ANY.PTR import PTR
    if rtype in ("A", "AAAA"):
        return dns.rdata.from_text(C.IN, T.from_text(rtype), value)
    if rtype == "MX":
        return MX(C.IN, T.MX, int(value[0]), dns.name.from_text(value[1]))
    if rtype == "PTR":
        return PTR(C.IN, T.PTR, dns.name.from_text(value))
    if rtype == "CNAME":
        return CNAME(C.IN, T.CNAME, dns.name.from_text(value))
    wire = b""
    for text in [value] if isinstance(value, str) else value:
        raw = text.encode("utf-8")
        for i in range(0, max(len(raw), 1), 255):
            wire += bytes([len(raw[i:i + 255])]) + raw[i:i + 255]
    return dns.rdata.GenericRdata(C.IN, T.TXT, wire)


class SuiteDns:
    """An authoritative DNS server on loopback (UDP, dnspython) serving one
    scenario's zone: NXDOMAIN for unknown names, NODATA for other types,
    one level of CNAME, SERVFAIL where the zone says TIMEOUT."""

    def __init__(self, zonedata):
        import threading
        self.zone = suite_zone(zonedata)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        import dns.message
        while self.running:
            try:
                data, peer = self.sock.recvfrom(65535)
                reply = self.reply(dns.message.from_wire(data))
                self.sock.sendto(reply.to_wire(), peer)
            except socket.timeout:
                continue
            except Exception:   # a bad query: no answer, as a server would
                continue

    def add(self, reply, qname, records, rdtype, follow):
        import dns.name
        import dns.rdatatype as T
        import dns.rrset
        records = [r for r in records if r != "TIMEOUT"]
        rdatas = [suite_rdata(t, v) for t, v in records if T.from_text(t) == rdtype]
        if rdatas:
            reply.answer.append(dns.rrset.from_rdata_list(qname, 0, rdatas))
        cnames = [v for t, v in records if t == "CNAME"]
        if cnames and rdtype != T.CNAME:
            reply.answer.append(dns.rrset.from_rdata_list(
                qname, 0, [suite_rdata("CNAME", cnames[0])]))
            target = self.zone.get(cnames[0].rstrip(".").lower())
            if follow and target and "TIMEOUT" not in target:
                self.add(reply, dns.name.from_text(cnames[0]), target, rdtype, False)

    def reply(self, query):
        import dns.flags
        import dns.message
        import dns.rcode
        reply = dns.message.make_response(query)
        reply.flags |= dns.flags.AA
        q = query.question[0]
        key = ".".join(l.decode("latin-1") for l in q.name.labels if l).lower()
        records = self.zone.get(key)
        if records is None:
            reply.set_rcode(dns.rcode.NXDOMAIN)
        elif "TIMEOUT" in records and not self.has_type(records, q.rdtype):
            reply.set_rcode(dns.rcode.SERVFAIL)
        else:
            self.add(reply, q.name, records, q.rdtype, True)
        return reply

    @staticmethod
    def has_type(records, rdtype):
        """As in testspf.py, TIMEOUT spares the types listed before it."""
        import dns.rdatatype as T
        for rec in records:
            if rec == "TIMEOUT":
                return False
            if T.from_text(rec[0]) == rdtype:
                return True
        return False

    def stop(self):
        self.running = False
        self.thread.join(5)
        self.sock.close()


@pytest.fixture(scope="module")
def suite_dns():
    """suite_dns(n) -> the DNS server of scenario n, started once."""
    pytest.importorskip("dns.message")
    started = {}

    def get(n):
        if n not in started:
            started[n] = SuiteDns(SUITE_DOCS[n]["zonedata"])
        return started[n]
    yield get
    for d in started.values():
        d.stop()


@pytest.mark.skipif(not SUITE_CASES, reason=f"no {SUITE} (python3-spf) or no yaml")
@pytest.mark.parametrize("n,tid", SUITE_CASES, ids=[c[1] for c in SUITE_CASES])
def test_spf_rfc7208_suite(suite_dns, make_facteur, n, tid):
    if tid in SUITE_DIFFERS:
        pytest.skip(SUITE_DIFFERS[tid])
    t = SUITE_DOCS[n]["tests"][tid]
    d = suite_dns(n)
    f = make_facteur(extra={"dns.resolver": f"127.0.0.1:{d.port}"})
    got, why = run_cli(f.conf, t["host"], t["mailfrom"], t["helo"])
    result, _, explanation = got.partition(": ")
    want = t["result"] if isinstance(t["result"], list) else [t["result"]]
    assert result in want, f"{tid} ({t.get('spec')}): got {got!r} ({why}), want {want}"
    if "explanation" in t and result == "fail":
        if t["explanation"] == "DEFAULT":
            assert explanation == "", f"unexpected explanation {explanation!r}"
        else:
            # Case aside: %{ir} of IPv6 is lowercase here (RFC 7208 7.4).
            assert explanation.lower() == t["explanation"].lower()
