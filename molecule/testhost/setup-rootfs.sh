#!/bin/sh
# Runs inside the freshly bootstrapped root: make it a quiet systemd container host (testhost),
# or just a clean base for image builds (base).
set -eu
kind=$1
suite=$2
mirror=$3

cat > /etc/apt/sources.list <<LIST
deb $mirror $suite main
deb $mirror $suite-updates main
deb ${mirror%/debian}/debian-security $suite-security main
LIST

if [ "$kind" = base ]; then
  apt-get clean
  rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/*.log
  exit 0
fi

# Units that make no sense in a container, or that fight the harness.
for unit in getty.target console-getty.service systemd-firstboot.service \
            systemd-udevd.service systemd-udev-trigger.service systemd-remount-fs.service \
            sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount \
            dev-hugepages.mount systemd-modules-load.service apt-daily.timer apt-daily-upgrade.timer; do
  ln -sf /dev/null "/etc/systemd/system/$unit"
done

# A new machine-id at each container start; host keys made at first boot, not baked in.
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id /etc/ssh/ssh_host_*
mkdir -p /etc/systemd/system/ssh.service.d
cat > /etc/systemd/system/ssh.service.d/hostkeys.conf <<UNIT
[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
UNIT
systemctl enable ssh.service >/dev/null 2>&1 || true

apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/*.log
