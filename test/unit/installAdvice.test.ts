// Install advice that fits the distribution, from os-release samples, and the word on
// machines where the offline labs cannot run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { installAdvice, packageManagerOf, parseOsRelease } from '../../src/core/labs/installAdvice';
import { labsUnsupportedReason } from '../../src/platform/labs/hostSupport';

const SAMPLES: Record<string, string> = {
  debian:
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n',
  ubuntu:
    'NAME="Ubuntu"\nVERSION="24.04 LTS (Noble Numbat)"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME="Ubuntu 24.04 LTS"\n',
  fedora:
    'NAME="Fedora Linux"\nVERSION="40 (Workstation Edition)"\nID=fedora\nPRETTY_NAME="Fedora Linux 40 (Workstation Edition)"\n',
  rocky:
    'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\nPRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"\n',
  alpine: 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.0\nPRETTY_NAME="Alpine Linux v3.20"\n',
  arch: 'NAME="Arch Linux"\nPRETTY_NAME="Arch Linux"\nID=arch\nBUILD_ID=rolling\n',
  nixos: 'NAME=NixOS\nID=nixos\nPRETTY_NAME="NixOS 24.05 (Uakari)"\n',
};

test('os-release: ID and ID_LIKE pick the package manager', () => {
  assert.equal(parseOsRelease(SAMPLES.rocky!).ID_LIKE, 'rhel centos fedora');
  const managers = Object.fromEntries(
    Object.entries(SAMPLES).map(([k, v]) => [k, packageManagerOf(parseOsRelease(v))]),
  );
  assert.deepEqual(managers, {
    debian: 'apt',
    ubuntu: 'apt',
    fedora: 'dnf',
    rocky: 'dnf',
    alpine: 'apk',
    arch: 'pacman',
    nixos: undefined,
  });
});

test('the advice uses the distribution’s command and package names, and says when root is needed', () => {
  const tools = ['tcpdump', 'ping', 'bird', 'birdc'];
  assert.equal(
    installAdvice(tools, SAMPLES.debian, true).sentence,
    'Missing tcpdump, ping, bird, birdc: install with `apt-get install -y tcpdump iputils-ping bird2`.',
  );
  assert.equal(
    installAdvice(tools, SAMPLES.ubuntu, false).sentence,
    'Missing tcpdump, ping, bird, birdc: install with `sudo apt-get install -y tcpdump iputils-ping bird2` (installing needs root).',
  );
  assert.equal(installAdvice(['ip'], SAMPLES.fedora, true).command, 'dnf install -y iproute');
  assert.equal(
    installAdvice(['ping', 'sysctl'], SAMPLES.rocky, false).command,
    'sudo dnf install -y iputils procps-ng',
  );
  assert.equal(
    installAdvice(['tcpdump', 'ip'], SAMPLES.alpine, true).command,
    'apk add tcpdump iproute2',
  );
  assert.equal(
    installAdvice(['bird'], SAMPLES.arch, false).command,
    'sudo pacman -S --needed --noconfirm bird',
  );
  const unknown = installAdvice(['tcpdump'], SAMPLES.nixos, true);
  assert.equal(unknown.command, null);
  assert.equal(
    unknown.sentence,
    "Missing tcpdump: install them with NixOS 24.05 (Uakari)'s package manager (as root).",
  );
  assert.doesNotMatch(installAdvice(['tcpdump'], undefined, true).sentence, /apt-get/);
});

test('labs on macOS and Windows: said so, with WSL / Remote-SSH, and what still works', () => {
  assert.equal(labsUnsupportedReason('linux'), undefined);
  const mac = labsUnsupportedReason('darwin')!;
  assert.match(mac, /^Offline labs need Linux .*this is macOS: .*Remote-SSH/);
  assert.match(mac, /Parsing captures, analysis, datapaths and clusters work here\.$/);
  assert.match(labsUnsupportedReason('win32')!, /this is Windows: open this folder in WSL/);
});
