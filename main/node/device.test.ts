import assert from 'node:assert/strict';
import { cpus, hostname, totalmem } from 'node:os';
import { test } from 'node:test';
import { deviceInfoSchema, type DeviceInfo } from '../../shared/control.js';
import { DeviceSampler, readDeviceInfo } from './device.js';

test('device info carries this machine’s real figures', () => {
  const device = readDeviceInfo();
  deviceInfoSchema.parse(device);
  assert.equal(device.hostname, hostname());
  assert.equal(device.cpu.cores, cpus().length);
  assert.equal(device.memory.totalBytes, totalmem());
  assert.ok(device.memory.freeBytes > 0 && device.memory.freeBytes <= device.memory.totalBytes);
  assert.ok(device.os.description.length > 0);
});

test('the sampler delivers fresh samples until stopped', async () => {
  const samples: DeviceInfo[] = [];
  const sampler = new DeviceSampler((device) => samples.push(device), 10);
  sampler.start();
  await new Promise((resolve) => setTimeout(resolve, 80));
  sampler.stop();
  const seen = samples.length;
  assert.ok(seen >= 2, `expected several samples, got ${seen}`);
  assert.ok(samples[1]!.sampledAt >= samples[0]!.sampledAt);
  assert.equal(sampler.latest, samples.at(-1));
  await new Promise((resolve) => setTimeout(resolve, 40));
  assert.equal(samples.length, seen);
});
