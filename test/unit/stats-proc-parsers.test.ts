import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  isInternetIpv4, parseDiskstats, parseNetDev, parseSnmpTcpEstablished, parseSockstat, parseUptime, selectDisks,
} from '../../src/ops/stats/proc-net-disk.js';
import type { networkInterfaces } from 'node:os';
import { ProcSampler } from '../../src/ops/stats/proc-stats.js';

// Captured from Linux 6.x machines (a VM with virtio disks, a laptop with NVMe).
const DISKSTATS = `   7       0 loop0 12 0 24 1 0 0 0 0 0 4 1 0 0 0 0 0 0
   8       0 sda 51263 12044 4392106 21374 100842 88432 7395488 140000 0 98532 172004 0 0 0 0 4128 10630
   8       1 sda1 51001 12044 4380000 21300 100800 88432 7395000 139990 0 98400 171990 0 0 0 0 0 0
 259       0 nvme0n1 2000 10 80000 900 3000 20 64000 1200 0 2500 2100 0 0 0 0 0 0
 259       1 nvme0n1p1 1990 10 79000 890 2990 20 63000 1190 0 2490 2080 0 0 0 0 0 0
 253       0 dm-0 1900 0 70000 800 2900 0 60000 1100 0 2400 1900 0 0 0 0 0 0
  11       0 sr0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
`;

const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 2769561330 1406776    0    0    0     0          0         0 2769561330 1406776    0    0    0     0       0          0
  eth0: 766714376   21648    0    0    0     0          0         0  2082931   15649    0    0    0     0       0          0
  eth1:1000 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0
`;

const SOCKSTAT = `sockets: used 57
TCP: inuse 1 orphan 0 tw 59 alloc 10 mem 8
UDP: inuse 4 mem 0
UDPLITE: inuse 0
RAW: inuse 0
FRAG: inuse 0 memory 0
`;

const SNMP = `Ip: Forwarding DefaultTTL InReceives
Ip: 1 64 123
Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors
Tcp: 1 200 120000 -1 14830 13795 860 363 7 577476 568934 2438 0 1440 0
Udp: InDatagrams NoPorts
Udp: 10 0
`;

describe('/proc parsers', () => {
  test('diskstats: sectors and io ticks by device; whole disks only unless stats.disk names them', () => {
    const all = parseDiskstats(DISKSTATS);
    assert.equal(all.length, 7);
    assert.deepEqual(all[1], { name: 'sda', readSectors: 4392106, writeSectors: 7395488, ioTicksMs: 98532 });
    assert.deepEqual(selectDisks(all, []).map((d) => d.name), ['sda', 'nvme0n1']);
    assert.deepEqual(selectDisks(all, ['sda1', 'dm-0']).map((d) => d.name), ['sda1', 'dm-0']);
    assert.deepEqual(parseDiskstats('garbage\n\n1 2'), []);
  });

  test('net/dev: receive and transmit bytes per interface (also with no space after the colon)', () => {
    assert.deepEqual(parseNetDev(NET_DEV), [
      { name: 'lo', recvBytes: 2769561330, sendBytes: 2769561330 },
      { name: 'eth0', recvBytes: 766714376, sendBytes: 2082931 },
      { name: 'eth1', recvBytes: 1000, sendBytes: 2000 },
    ]);
  });

  test('public vs private IPv4, as SRS splits net_recv_bytes from net_recvi_bytes', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.1.1', 'x']) assert.equal(isInternetIpv4(a), false, a);
    for (const a of ['8.8.8.8', '172.32.0.1', '1.2.3.4']) assert.equal(isInternetIpv4(a), true, a);
  });

  test('sockstat and snmp: TCP allocated, TIME_WAIT, established; UDP in use', () => {
    assert.deepEqual(parseSockstat(SOCKSTAT), { tcpAlloc: 10, tcpTimeWait: 59, udpInUse: 4 });
    assert.equal(parseSockstat('nothing'), null);
    assert.equal(parseSnmpTcpEstablished(SNMP), 7);
    assert.equal(parseSnmpTcpEstablished('Tcp: A B\n'), null);
  });

  test('uptime: seconds and idle seconds', () => {
    assert.deepEqual(parseUptime('350735.47 1234.56\n'), { uptime: 350735.47, idle: 1234.56 });
    assert.equal(parseUptime(''), null);
  });
});

describe('ProcSampler on captured /proc', () => {
  test('sockets, network split by public address, disk rates between two samples', () => {
    let sectors = 1000;
    const files: Record<string, () => string> = {
      '/proc/net/sockstat': () => SOCKSTAT,
      '/proc/net/snmp': () => SNMP,
      '/proc/net/dev': () => NET_DEV,
      '/proc/diskstats': () => `   8       0 sda 1 0 ${sectors} 0 1 0 ${sectors * 2} 0 0 10 0 0 0 0 0 0 0\n`,
      '/proc/uptime': () => '100.50 80.25\n',
    };
    const ifaces = (): ReturnType<typeof networkInterfaces> => ({
      eth0: [{ address: '203.0.113.9', netmask: '255.255.255.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: false, cidr: null }],
      eth1: [{ address: '10.0.0.2', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: false, cidr: null }],
    });
    const p = new ProcSampler((path) => files[path]?.() ?? null, () => [], ifaces);
    assert.deepEqual(p.sockets, { sys: 69, established: 7, timeWait: 59, udp: 4 });
    assert.equal(p.net.recvBytes, 766714376);
    assert.equal(p.net.sendBytes, 2082931);
    assert.equal(p.net.recviBytes, 2769561330 + 1000);
    assert.equal(p.net.sendiBytes, 2769561330 + 2000);
    assert.deepEqual(p.uptime, { uptime: 100.5, idle: 80.25 });
    assert.deepEqual(p.disk, { readKBps: 0, writeKBps: 0, busy: 0 }, 'no rate before a second sample');
    sectors += 2048; // 1 MiB read, 2 MiB written
    p.sample();
    assert.ok(p.disk.readKBps > 0 && p.disk.writeKBps >= p.disk.readKBps, JSON.stringify(p.disk));
    assert.ok(p.disk.busy >= 0 && p.disk.busy <= 1);
  });
});
