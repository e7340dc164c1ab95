#!/usr/bin/env python3
"""Writes the VM config fixtures in testdata/vmconfigs/<name>.utm/config.plist.

Run from anywhere:  python3 testdata/vmconfigs/tools/mkfixtures.py
The output is committed; rerunning it must give the same bytes.

Python's plistlib writes both formats, so the binary fixtures do not come
from libplist (the library under test).  The shapes follow UTM's decoders as
summarised in shared/reference/utm-domain.md §3 (v4 QEMU and Apple, legacy
QEMU v1/v2, legacy Apple v1..3).  What each fixture should check out as is
written by hand in ../EXPECTED.tsv, not derived from this script.
"""
import copy
import os
import plistlib
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.dirname(HERE)

UUIDS = iter("%08X-1111-4222-8333-%012X" % (i, i) for i in range(1, 1000))


def nic(mode, hw="virtio-net-pci", mac="02:93:C2:B9:5E:3A", iso=False, fwd=None, **extra):
    d = {"Hardware": hw, "IsolateFromHost": iso, "MacAddress": mac, "Mode": mode, "PortForward": fwd or []}
    d.update(extra)
    return d


def qemu_v4(name, nics, args=None, version=4):
    return {
        "Backend": "QEMU",
        "ConfigurationVersion": version,
        "Display": [{"DownscalingFilter": "Linear", "DynamicResolution": True, "Hardware": "virtio-ramfb",
                     "NativeResolution": False, "UpscalingFilter": "Nearest"}],
        "Drive": [{"Identifier": "A1B2C3D4-0000-4000-8000-000000000001", "ImageName": "disk-0.qcow2",
                   "ImageType": "Disk", "Interface": "VirtIO", "InterfaceVersion": 1, "ReadOnly": False}],
        "Information": {"Icon": "linux", "IconCustom": False, "Name": name, "UUID": next(UUIDS)},
        "Input": {"MaximumUsbShare": 3, "UsbBusSupport": "3.0", "UsbSharing": False},
        "Network": nics,
        "QEMU": {"AdditionalArguments": args if args is not None else [], "BalloonDevice": False,
                 "DebugLog": False, "Hypervisor": True, "PS2Controller": False, "RNGDevice": True,
                 "RTCLocalTime": False, "TPMDevice": False, "TSO": False, "UEFIBoot": True},
        "Serial": [],
        "Sharing": {"ClipboardSharing": True, "DirectoryShareMode": "VirtFS", "DirectoryShareReadOnly": False},
        "Sound": [{"Hardware": "intel-hda"}],
        "System": {"Architecture": "aarch64", "CPU": "default", "CPUCount": 0, "CPUFlagsAdd": [],
                   "CPUFlagsRemove": [], "ForceMulticore": False, "JITCacheSize": 0, "MemorySize": 4096,
                   "Target": "virt"},
    }


def apple_v4(name, nics):
    return {
        "Backend": "Apple",
        "ConfigurationVersion": 4,
        "Display": [{"HeightInPixels": 1080, "PixelsPerInch": 80, "WidthInPixels": 1920}],
        "Drive": [{"Identifier": "B1B2C3D4-0000-4000-8000-000000000002", "ImageName": "disk.img",
                   "ReadOnly": False}],
        "Information": {"Icon": "linux", "IconCustom": False, "Name": name, "UUID": next(UUIDS)},
        "Network": nics,
        "Serial": [],
        "System": {"Architecture": "aarch64", "Boot": {"OperatingSystem": "macOS"}, "CPUCount": 4,
                   "MacPlatform": {"AuxiliaryStoragePath": "AuxiliaryStorage",
                                   "HardwareModel": bytes(range(32)),
                                   "MachineIdentifier": bytes(range(100, 132))},
                   "MemorySize": 4294967296},
        "Virtualization": {"Audio": True, "Balloon": True, "Entropy": True, "Keyboard": "Generic",
                           "Pointer": "Mouse", "Rosetta": False},
    }


def apple_nic(mode, mac="5A:94:EF:E4:0C:DD", **extra):
    d = {"MacAddress": mac, "Mode": mode}
    d.update(extra)
    return d


def legacy_qemu(networking, version=2, addargs=None):
    d = {
        "ConfigurationVersion": version,
        "Debug": {},
        "Display": {"ConsoleFont": "Menlo", "ConsoleFontSize": 12, "ConsoleOnly": False,
                    "DisplayCard": "virtio-ramfb", "DisplayDownscaler": "linear", "DisplayUpscaler": "nearest"},
        "Drives": [{"DriveName": "drive0", "ImagePath": "disk.qcow2", "ImageType": "disk",
                    "InterfaceType": "virtio"}],
        "Info": {"Icon": "ubuntu", "IconCustom": False, "Notes": "legacy fixture"},
        "Input": {"InputLegacy": False},
        "Printing": {},
        "Sharing": {"ClipboardSharing": True, "UsbRedirectMax": 3},
        "Sound": {"SoundCard": "intel-hda", "SoundEnabled": True},
        "System": {"Architecture": "x86_64", "BootDevice": "", "BootUefi": True, "CPU": "default",
                   "CPUCount": 2, "ForceMulticore": False, "Memory": 2048, "RngEnabled": True,
                   "SystemUUID": next(UUIDS), "Target": "q35", "UseHypervisor": True},
    }
    if networking is not None:
        d["Networking"] = networking
    if addargs is not None:
        d["System"]["AddArgs"] = addargs
    return d


def legacy_apple(name, devices, version=3):
    return {
        "architecture": "aarch64",
        "bootLoader": {"linuxCommandLine": "console=hvc0", "linuxKernelPath": "vmlinuz",
                       "operatingSystem": "Linux"},
        "consoleCursorBlink": True,
        "consoleFontSize": 12,
        "cpuCount": 2,
        "diskImages": [{"imagePath": "disk.img", "isExternal": False, "isReadOnly": False,
                        "sizeMib": 10240}],
        "displays": [],
        "iconCustom": False,
        "isAppleVirtualization": True,
        "isBalloonEnabled": True,
        "isConsoleDisplay": True,
        "isEntropyEnabled": True,
        "isSerialEnabled": False,
        "memorySize": 2147483648,
        "name": name,
        "networkDevices": devices,
        "version": version,
    }


def legacy_apple_nic(mode, mac="7E:10:AA:01:02:03", **extra):
    d = {"macAddress": mac, "networkMode": mode}
    d.update(extra)
    return d


F = {}  # name -> (object or bytes, binary?)

# ---- v4 QEMU ----
F["qemu-v4-emulated"] = (qemu_v4("Emulated", [nic("Emulated", fwd=[
    {"GuestPort": 22, "HostPort": 2222, "Protocol": "TCP"},
    {"GuestAddress": "10.0.2.15", "GuestPort": 53, "HostAddress": "127.0.0.1", "HostPort": 5353,
     "Protocol": "UDP"}])]), False)
F["qemu-v4-emulated-bin"] = (qemu_v4("Emulated binary", [nic("Emulated", hw="e1000", iso=True)]), True)
F["qemu-v4-emulated-vlan"] = (qemu_v4("Emulated VLAN", [nic(
    "Emulated", VlanGuestAddress="10.0.3.0/24", VlanHostAddress="10.0.3.2", VlanGuestAddressIPv6="fec0::/64",
    VlanDhcpStartAddress="10.0.3.15", VlanDnsServerAddress="10.0.3.3", VlanDnsSearchDomain="lan",
    VlanDhcpDomain="example.lan")]), False)
F["qemu-v4-portfwd-camel"] = (qemu_v4("Pre-4.4 forwards", [nic("Emulated", fwd=[
    {"guestAddress": "10.0.2.15", "guestPort": 80, "hostPort": 8080, "protocol": "TCP"}])]), False)
F["qemu-v4-shared"] = (qemu_v4("Shared", [nic("Shared")]), False)
F["qemu-v4-shared-bin"] = (qemu_v4("Shared binary", [nic("Shared", fwd=[
    {"GuestPort": 22, "HostPort": 2022, "Protocol": "TCP"}])]), True)
F["qemu-v4-shared-subnet"] = (qemu_v4("Shared subnet", [nic(
    "Shared", iso=True, VlanGuestAddress="192.168.64.0/24", VlanGuestAddressIPv6="fd00:1::/64")]), False)
F["qemu-v4-shared-portfwd-camel"] = (qemu_v4("Shared pre-4.4 forwards", [nic("Shared", fwd=[
    {"guestPort": 3389, "hostPort": 13389, "protocol": "TCP"},
    {"guestPort": 5353, "hostAddress": "127.0.0.1", "hostPort": 15353, "protocol": "UDP"}])]), False)
F["qemu-v4-host"] = (qemu_v4("Host", [nic("Host", HostNetUuid="5d1f6c1e-8a4b-4c7d-9e0f-123456789abc")]), False)
F["qemu-v4-host-bin"] = (qemu_v4("Host binary", [nic("Host", hw="rtl8139")]), True)
F["qemu-v4-bridged"] = (qemu_v4("Bridged", [nic("Bridged", BridgeInterface="en1")]), False)
F["qemu-v4-bridged-default-bin"] = (qemu_v4("Bridged default", [nic("Bridged")]), True)
F["qemu-v4-no-nic"] = (qemu_v4("No network", []), False)
F["qemu-v4-multi"] = (qemu_v4("Three NICs", [
    nic("Emulated", hw="e1000", mac="02:00:00:00:00:0A"),
    nic("Shared", mac="02:00:00:00:00:0B"),
    nic("Bridged", hw="rtl8139", mac="02:00:00:00:00:0C", BridgeInterface="en0")]), False)
F["qemu-v4-args-netdev-pair"] = (qemu_v4("Args pair", [nic("Emulated")], args=[
    "-netdev", "vmnet-shared,id=vnet1", "-device", "virtio-net-pci,netdev=vnet1,mac=02:00:00:00:00:01"]), False)
F["qemu-v4-args-netdev-one-bin"] = (qemu_v4("Args one string", [nic("Emulated")], args=[
    "-usbdevice tablet", "-netdev vmnet-bridged,id=br0,ifname=en0", ""]), True)
F["qemu-v4-args-nic"] = (qemu_v4("Args nic", [], args=[
    "-nic vmnet-shared,model=virtio-net-pci,mac=02:11:22:33:44:55 -rtc base=localtime"]), False)
F["qemu-v4-args-equals"] = (qemu_v4("Args equals", [nic("Emulated")], args=[
    "-m 2G", "-netdev=vmnet-host,id=h0", "vmnet-shared,id=stray"]), False)
F["qemu-v4-args-benign"] = (qemu_v4("Args without vmnet", [nic("Emulated")], args=[
    "-name", "vmnet-shared", "-netdev", "user,id=u1", "-device", "e1000,netdev=u1",
    "-fw_cfg \"name=opt/x,string=vmnet-shared is not used\""]), False)

# ---- v4 Apple ----
F["apple-v4-shared"] = (apple_v4("Apple shared", [apple_nic("Shared")]), False)
F["apple-v4-bridged"] = (apple_v4("Apple bridged", [apple_nic("Bridged", BridgeInterface="en0")]), False)
F["apple-v4-multi-bin"] = (apple_v4("Apple two NICs", [
    apple_nic("Shared"), apple_nic("Bridged", mac="5A:94:EF:E4:0C:DE")]), True)

# ---- legacy QEMU ----
F["legacy-qemu-v2-shared"] = (legacy_qemu({"NetworkCard": "virtio-net-pci", "NetworkCardMAC": "A6:70:C3:0F:40:91",
                                           "NetworkMode": "shared"}), False)
F["legacy-qemu-v2-emulated"] = (legacy_qemu({
    "IPSubnet": "10.0.2.0/24", "IsolateGuest": True, "NetworkCard": "e1000", "NetworkCardMAC": "A6:70:C3:0F:40:92",
    "NetworkMode": "emulated",
    "PortForward": [{"GuestAddress": "", "GuestPort": 22, "HostAddress": "", "HostPort": 2222,
                     "Protocol": "tcp"}]}), False)
F["legacy-qemu-v2-bridged-bin"] = (legacy_qemu({
    "NetworkBridgeInterface": "en1", "NetworkCard": "virtio-net-pci", "NetworkCardMAC": "A6:70:C3:0F:40:93",
    "NetworkMode": "bridged"}, addargs=["-m 1G", "-netdev", "vmnet-host,id=h1"]), True)
F["legacy-qemu-v2-host-addargs-string"] = (legacy_qemu({
    "NetworkCard": "rtl8139", "NetworkMode": "host"},
    addargs="-netdev vmnet-shared,id=s1 -device rtl8139,netdev=s1"), False)
F["legacy-qemu-v2-none"] = (legacy_qemu({"NetworkCard": "rtl8139", "NetworkMode": "none"}), False)
F["legacy-qemu-v1-enabled"] = (legacy_qemu({"NetworkCard": "rtl8139", "NetworkEnabled": True}, version=1), False)
F["legacy-qemu-v1-disabled"] = (legacy_qemu({"NetworkEnabled": False, "NetworkMode": "shared"}, version=1), False)

# ---- legacy Apple ----
F["legacy-apple-v3-shared"] = (legacy_apple("Legacy Apple shared", [legacy_apple_nic("Shared")]), False)
F["legacy-apple-v3-bridged"] = (legacy_apple("Legacy Apple bridged", [
    legacy_apple_nic("Bridged", bridgeInterfaceIdentifier="en0")]), False)
F["legacy-apple-v2-bridged-bin"] = (legacy_apple("Legacy Apple v2", [
    legacy_apple_nic("Bridged"), legacy_apple_nic("Shared", mac="7E:10:AA:01:02:04")], version=2), True)

# ---- invalid ----
F["invalid-not-plist"] = (b"this is not a property list\n", False)
F["invalid-truncated-binary"] = (plistlib.dumps(qemu_v4("Truncated", [nic("Shared")]),
                                                fmt=plistlib.FMT_BINARY)[:48], True)
F["invalid-root-array"] = (["Backend", "QEMU"], False)
F["invalid-qemu-version5"] = (qemu_v4("Version 5", [nic("Emulated")], version=5), False)
F["invalid-qemu-version3"] = (qemu_v4("Version 3", [nic("Emulated")], version=3), False)
_apple_nover = apple_v4("Apple no version", [apple_nic("Shared")])
del _apple_nover["ConfigurationVersion"]
F["invalid-apple-no-version"] = (_apple_nover, False)
_nomac = nic("Emulated")
del _nomac["MacAddress"]
F["invalid-v4-no-mac"] = (qemu_v4("No MAC", [_nomac]), False)
_br_nomac = nic("Bridged", BridgeInterface="en0")
del _br_nomac["MacAddress"]
F["invalid-v4-bridged-no-mac"] = (qemu_v4("Bridged no MAC", [_br_nomac]), False)
_missing = nic("Shared")
del _missing["IsolateFromHost"]
del _missing["PortForward"]
_missing_cfg = qemu_v4("Missing keys", [_missing])
del _missing_cfg["Sound"]
F["invalid-v4-missing-keys"] = (_missing_cfg, False)
F["invalid-v4-mode-lowercase"] = (qemu_v4("Lowercase mode", [nic("shared")]), False)
_argsdict = qemu_v4("Args dict", [nic("Emulated")])
_argsdict["QEMU"]["AdditionalArguments"] = {"string": "-netdev vmnet-shared,id=n1"}
F["invalid-args-dict"] = (_argsdict, False)
_backend = qemu_v4("Other backend", [nic("Emulated")])
_backend["Backend"] = "Parallels"
F["invalid-backend-unknown"] = (_backend, False)
F["invalid-host-uuid"] = (qemu_v4("Bad host UUID", [nic("Host", HostNetUuid="en0")]), False)
F["invalid-portfwd-mixed"] = (qemu_v4("Mixed forward keys", [nic("Emulated", fwd=[
    {"GuestPort": 22, "hostPort": 2222, "Protocol": "TCP"}])]), False)
F["invalid-legacy-qemu-v3"] = (legacy_qemu({"NetworkMode": "emulated"}, version=3), False)
F["invalid-legacy-apple-v4"] = (legacy_apple("Legacy Apple v4", [legacy_apple_nic("Shared")], version=4), False)
_la = legacy_apple("Legacy Apple missing", [legacy_apple_nic("Shared")])
del _la["name"]
del _la["diskImages"]
F["invalid-legacy-apple-missing"] = (_la, False)
F["invalid-legacy-no-system"] = ({"ConfigurationVersion": 2, "Networking": {"NetworkMode": "shared"}}, False)
F["invalid-no-config"] = (None, False)

# ---- added later (kept last so the UUIDs above stay as they are) ----
F["qemu-v4-args-chain"] = (qemu_v4("Args chain", [nic("Emulated")], args=[
    "-nic", "-netdev", "vmnet-shared,id=a", "x,type=vmnet-bridged", "-m 1G"]), False)


def main():
    for name, (obj, binary) in sorted(F.items()):
        d = os.path.join(OUT, name + ".utm")
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "config.plist")
        if obj is None:  # a bundle without config.plist; git needs a file in it
            os.makedirs(os.path.join(d, "Data"), exist_ok=True)
            open(os.path.join(d, "Data", ".keep"), "w").close()
            continue
        if isinstance(obj, bytes):
            data = obj
        else:
            data = plistlib.dumps(copy.deepcopy(obj), fmt=plistlib.FMT_BINARY if binary else plistlib.FMT_XML,
                                  sort_keys=True)
        with open(path, "wb") as f:
            f.write(data)
    print("wrote %d fixtures to %s" % (len(F), OUT), file=sys.stderr)


if __name__ == "__main__":
    main()
