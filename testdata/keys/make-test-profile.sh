#!/bin/sh
# make-test-profile.sh [KEYDIR] - writes a TEST-ONLY stand-in provisioning profile,
# KEYDIR/embedded.provisionprofile: a DER CMS SignedData (content attached) over an
# XML plist shaped like a real macOS Developer ID profile for UTM's QEMUHelper
# (Name, TeamIdentifier, Entitlements with com.apple.vm.networking and
# com.apple.security.hypervisor, Platform OSX, ProvisionsAllDevices, ...).
# Signed by "utmpatch TEST Provisioning Profile Signing" (issued by the TEST root);
# the root is included, like Apple's profiles include Apple Root CA.
# ExpirationDate stays before 2069: libplist 2.2 reads plist dates as int32 seconds since 2001.
# Run make-test-pki.sh first.  Needs the openssl CLI.
set -eu
dir=${1:-$(dirname "$0")}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cert=$(openssl x509 -in "$dir/leaf.pem" -outform DER | openssl base64 -A)
cat >"$dir/profile.plist" <<PLIST
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>AppIDName</key>
	<string>utmpatch TEST QEMUHelper</string>
	<key>ApplicationIdentifierPrefix</key>
	<array>
		<string>UTMTEST123</string>
	</array>
	<key>CreationDate</key>
	<date>2024-01-01T00:00:00Z</date>
	<key>Platform</key>
	<array>
		<string>OSX</string>
	</array>
	<key>IsXcodeManaged</key>
	<false/>
	<key>DeveloperCertificates</key>
	<array>
		<data>$cert</data>
	</array>
	<key>Entitlements</key>
	<dict>
		<key>com.apple.application-identifier</key>
		<string>UTMTEST123.com.utmapp.QEMUHelper</string>
		<key>com.apple.developer.team-identifier</key>
		<string>UTMTEST123</string>
		<key>com.apple.security.hypervisor</key>
		<true/>
		<key>com.apple.vm.networking</key>
		<true/>
		<key>keychain-access-groups</key>
		<array>
			<string>UTMTEST123.*</string>
		</array>
	</dict>
	<key>ExpirationDate</key>
	<date>2068-01-01T00:00:00Z</date>
	<key>Name</key>
	<string>utmpatch TEST Developer ID Profile: com.utmapp.QEMUHelper</string>
	<key>ProvisionsAllDevices</key>
	<true/>
	<key>TeamIdentifier</key>
	<array>
		<string>UTMTEST123</string>
	</array>
	<key>TeamName</key>
	<string>utmpatch Test</string>
	<key>TimeToLive</key>
	<integer>16071</integer>
	<key>UUID</key>
	<string>00000000-0000-4000-8000-0000757a7465</string>
	<key>Version</key>
	<integer>1</integer>
</dict>
</plist>
PLIST
openssl cms -sign -nodetach -binary -md sha256 -nosmimecap -outform DER \
	-in "$dir/profile.plist" -signer "$dir/profile-signer.pem" -inkey "$dir/profile-signer.key" \
	-certfile "$dir/root.pem" -out "$work/profile.der"
mv "$work/profile.der" "$dir/embedded.provisionprofile"
echo "stand-in profile written to $dir/embedded.provisionprofile"
