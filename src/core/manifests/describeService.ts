import type { ServiceManifest, ServicePort } from './types';

function describePort(p: ServicePort): string {
  const target = p.targetPort && p.targetPort !== String(p.port) ? `→${p.targetPort}` : '';
  const node = p.nodePort !== null ? ` (node port ${p.nodePort})` : '';
  return `${p.port ?? '?'}${target}/${p.protocol}${node}`;
}

/**
 * One line for people: `Service web: NodePort, ports 80/TCP (node port 30080)`.
 *
 * @param service a recognised Service manifest.
 */
export function describeService(service: ServiceManifest): string {
  const ports = service.ports.length > 0 ? service.ports.map(describePort).join(', ') : 'no ports';
  return `Service ${service.name ?? '(unnamed)'}: ${service.type}, ports ${ports}`;
}
