#!/bin/busybox sh
# Guest stage 1 (the initramfs's /init, busybox only): mount the host's / read-only over 9p, the devices file's
# directory read-write over it, the runner's job directory, then chroot into the host's tree and run stage 2
# (guest.js, with the host's own node). Power off when it returns, whatever happened.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in netfs 9pnet 9pnet_virtio 9p; do insmod /lib/$m.ko 2>/dev/null; done
fail() { echo "usb-vm guest: $*"; poweroff -f; }
mkdir -p /host
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 hostroot /host || fail "cannot mount the host's /"
mount -t tmpfs -o mode=1777 tmp /host/tmp
mount -t tmpfs -o mode=755 run /host/run
mount -t proc proc /host/proc
mount -t sysfs sys /host/sys
mount -t devtmpfs dev /host/dev
mkdir -p /host/dev/pts /host/dev/shm
mount -t devpts devpts /host/dev/pts
mount -t tmpfs -o mode=1777 shm /host/dev/shm
mkdir -p /host/run/usb-vm
mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=262144 job /host/run/usb-vm || fail "cannot mount the job directory"
# The repository read-only at its own path (the tmpfs on /tmp and /run would hide a clone there), then the devices
# file's directory read-write (it may lie inside the repository).
REPO=$(cat /host/run/usb-vm/repo-dir)
mkdir -p "/host$REPO" 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 repo "/host$REPO" || fail "cannot mount the repository $REPO"
FILES=$(cat /host/run/usb-vm/files-dir)
mkdir -p "/host$FILES" 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=262144 files "/host$FILES" || fail "cannot mount $FILES"
NODE=$(cat /host/run/usb-vm/node)
GUEST=$(cat /host/run/usb-vm/guest)
chroot /host "$NODE" "$GUEST" /run/usb-vm/job.json
sync
poweroff -f
