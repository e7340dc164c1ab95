#!/bin/sh
# make-test-tsa.sh - regenerates the TEST-ONLY timestamp authority of testdata/keys.
#
# THROWAWAY TEST KEY.  tsa.pem / tsa.key: "utmpatch TEST Timestamp Authority",
# issued by testdata/keys/root.pem, extendedKeyUsage critical timeStamping (RFC
# 3161 §2.3 requires exactly that).  tsa.cnf is the `openssl ts -reply` config
# tsa_server.py uses (SHA-256, certs included).  Validity 2024-01-01 .. 2124-01-01.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
keys=$(dirname "$dir")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/ca.cnf" <<CNF
[ ca ]
default_ca = testca
[ testca ]
database = $work/index.txt
new_certs_dir = $work
serial = $work/serial
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[ anything ]
countryName = optional
organizationName = optional
commonName = supplied
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_tsa ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
touch "$work/index.txt"
echo 06 >"$work/serial"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/tsa.key" 2>/dev/null
openssl req -new -config "$work/ca.cnf" -key "$dir/tsa.key" \
	-subj "/C=US/O=utmpatch TEST/CN=utmpatch TEST Timestamp Authority" -out "$work/tsa.csr"
openssl ca -batch -config "$work/ca.cnf" -cert "$keys/root.pem" -keyfile "$keys/root.key" -in "$work/tsa.csr" \
	-preserveDN -startdate 20240101000000Z -enddate 21240101000000Z -extensions v3_tsa -notext \
	-out "$dir/tsa.pem" 2>/dev/null
echo "test TSA written to $dir"
