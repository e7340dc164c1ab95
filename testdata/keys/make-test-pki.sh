#!/bin/sh
# make-test-pki.sh [OUTDIR] - regenerates the TEST-ONLY code-signing PKI.
#
# THROWAWAY TEST KEYS.  Nothing signed with them is trusted anywhere; the
# private keys are committed on purpose so that tests are deterministic.
#
#   root.pem / root.key        "utmpatch TEST Root CA" (self-signed)
#   devid-ca.pem / .key        "utmpatch TEST Developer ID Certification Authority",
#                              carries 1.2.840.113635.100.6.2.6 (DER NULL), like
#                              Apple's Developer ID CA (non-critical there too)
#   leaf.pem / leaf.key        "Developer ID Application: utmpatch Test (UTMTEST123)",
#                              OU=UTMTEST123, 1.2.840.113635.100.6.1.13 (critical,
#                              like Apple's leaves), EKU codeSigning (critical)
#   chain.pem                  devid-ca.pem + root.pem (the leaf's chain)
#   identity.p12 + identity.pass  leaf key + leaf + chain, password in the file
#   profile-signer.pem / .key  "utmpatch TEST Provisioning Profile Signing" (issued by the root)
#   other.pem / other.key      "utmpatch TEST Other Signer", a self-signed non-Apple-style identity
#   roots.tsv                  SHA-256 fingerprint of root.pem in the profiles/apple-roots.tsv format
#
# Validity is fixed: 2024-01-01 to 2124-01-01.  Needs the openssl CLI (3.x).
set -eu
out=${1:-$(dirname "$0")}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

START=20240101000000Z
END=21240101000000Z

cat >"$work/ca.cnf" <<CNF
[ ca ]
default_ca = testca
[ testca ]
dir = $work
database = $work/index.txt
new_certs_dir = $work
serial = $work/serial
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
email_in_dn = no

[ anything ]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
userId = optional
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_root ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_devid_ca ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
1.2.840.113635.100.6.2.6 = DER:0500
[ v3_leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
1.2.840.113635.100.6.1.13 = critical, DER:0500
[ v3_profile ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_other ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, codeSigning
subjectKeyIdentifier = hash
CNF
touch "$work/index.txt"

key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$out/$1.key" 2>/dev/null; }
csr() { openssl req -new -config "$work/ca.cnf" -key "$out/$1.key" -subj "$2" -out "$work/$1.csr"; }
# sign NAME SERIAL EXT ISSUER [selfsign]
sign() {
	echo "$2" >"$work/serial"
	if [ "$4" = self ]; then
		openssl ca -batch -config "$work/ca.cnf" -selfsign -keyfile "$out/$1.key" -in "$work/$1.csr" \
			-preserveDN -startdate $START -enddate $END -extensions "$3" -notext -out "$out/$1.pem" 2>/dev/null
	else
		openssl ca -batch -config "$work/ca.cnf" -cert "$out/$4.pem" -keyfile "$out/$4.key" -in "$work/$1.csr" \
			-preserveDN -startdate $START -enddate $END -extensions "$3" -notext -out "$out/$1.pem" 2>/dev/null
	fi
}

key root
csr root "/C=US/O=utmpatch TEST/OU=utmpatch TEST Certification Authority/CN=utmpatch TEST Root CA"
sign root 01 v3_root self

key devid-ca
csr devid-ca "/C=US/O=utmpatch TEST/OU=utmpatch TEST Certification Authority/CN=utmpatch TEST Developer ID Certification Authority"
sign devid-ca 02 v3_devid_ca root

key leaf
csr leaf "/UID=UTMTEST123/CN=Developer ID Application: utmpatch Test (UTMTEST123)/OU=UTMTEST123/O=utmpatch Test/C=US"
sign leaf 03 v3_leaf devid-ca

key profile-signer
csr profile-signer "/C=US/O=utmpatch TEST/CN=utmpatch TEST Provisioning Profile Signing"
sign profile-signer 04 v3_profile root

key other
csr other "/CN=utmpatch TEST Other Signer/O=utmpatch Other/C=US"
sign other 05 v3_other self

cat "$out/devid-ca.pem" "$out/root.pem" >"$out/chain.pem"
printf 'utmpatch-test-only\n' >"$out/identity.pass"
openssl pkcs12 -export -inkey "$out/leaf.key" -in "$out/leaf.pem" -certfile "$out/chain.pem" \
	-name "utmpatch TEST identity" -passout "file:$out/identity.pass" -out "$out/identity.p12"

fp=$(openssl x509 -in "$out/root.pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f)
printf '# TEST-ONLY anchor: utmpatch TEST Root CA (testdata/keys/root.pem)\n%s\tutmpatch TEST Root CA\ttestdata/keys/make-test-pki.sh\n' "$fp" >"$out/roots.tsv"
echo "test PKI written to $out"
