"""Image sets shared by tests and benchmarks: one list, so a figure and its test measure the same thing."""

# Twenty images of every kind the catalog holds: Gen1/Gen2/Arm64, Linux and Windows, a plan image,
# a prefix and an exact older version.
TWENTY = [
    "Canonical:ubuntu-24_04-lts:server:latest", "Canonical:ubuntu-24_04-lts:server-gen1:latest",
    "Canonical:ubuntu-24_04-lts:server-arm64:latest", "Canonical:0001-com-ubuntu-server-jammy:22_04-lts:latest",
    "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest",
    "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-arm64:latest", "Debian:debian-12:12:latest",
    "Debian:debian-12:12-gen2:latest", "Debian:debian-12:12-arm64:latest", "RedHat:RHEL:8-lvm-gen2:latest",
    "RedHat:RHEL:9-lvm-gen2:latest", "MicrosoftWindowsServer:WindowsServer:2019-datacenter:latest",
    "MicrosoftWindowsServer:WindowsServer:2019-datacenter-gensecond:latest",
    "MicrosoftWindowsServer:WindowsServer:2022-datacenter:latest",
    "MicrosoftWindowsServer:WindowsServer:2022-datacenter-g2:latest",
    "MicrosoftWindowsServer:WindowsServer:2022-datacenter-azure-edition:latest",
    "MicrosoftWindowsServer:WindowsServer:2025-datacenter-azure-edition:latest",
    "center-for-internet-security-inc:cis-ubuntu-linux-2204-l1:cis-ubuntu2204-l1-gen2:latest",
    "RedHat:RHEL:8-lvm-gen2:8.9.*", "Canonical:ubuntu-24_04-lts:server:24.04.202409120",
]
