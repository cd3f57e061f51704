// The device card: what this machine is and how much memory it has free, updated live.
import type { NodeInfo } from '../../../shared/control.js';
import { formatBytes, percent } from '../format.js';

export function ThisDevicePage({ node }: { node: NodeInfo }) {
  const { device } = node;
  const usedBytes = device.memory.totalBytes - device.memory.freeBytes;
  return (
    <section className="card" data-testid="device-card" aria-label="This device">
      <div className="card-head">
        <h2 data-testid="node-name">{node.name}</h2>
        <span className="muted">Tessera {node.version}</span>
      </div>
      <dl className="facts">
        <Fact label="Host name" testId="device-hostname" value={device.hostname} />
        <Fact label="Operating system" testId="device-os" value={`${device.os.description} (${device.os.arch})`} raw={device.os.platform} />
        <Fact label="CPU" testId="device-cpu" value={device.cpu.model} />
        <Fact label="Cores" testId="device-cores" value={String(device.cpu.cores)} raw={device.cpu.cores} />
        <Fact label="Memory total" testId="device-memory-total" value={formatBytes(device.memory.totalBytes)} raw={device.memory.totalBytes} />
        <Fact label="Memory free" testId="device-memory-free" value={formatBytes(device.memory.freeBytes)} raw={device.memory.freeBytes} />
        <Fact label="Node id" testId="node-id" value={node.id} mono />
        <Fact label="Version" testId="node-version" value={node.version} />
      </dl>
      <div className="meter" aria-label={`Memory in use: ${percent(usedBytes, device.memory.totalBytes)}%`}>
        <progress max={device.memory.totalBytes} value={usedBytes} />
        <span className="muted">{percent(usedBytes, device.memory.totalBytes)}% of memory in use</span>
      </div>
      <p className="muted small" data-testid="device-sampled-at" data-sampled-at={device.sampledAt}>
        Updated {new Date(device.sampledAt).toLocaleTimeString()}
      </p>
    </section>
  );
}

function Fact(props: { label: string; value: string; testId: string; raw?: string | number; mono?: boolean }) {
  return (
    <div className="fact">
      <dt>{props.label}</dt>
      <dd data-testid={props.testId} data-value={props.raw ?? props.value} className={props.mono ? 'mono' : undefined}>
        {props.value}
      </dd>
    </div>
  );
}
