/**
 * Everything a lab creation does, as data: the files it writes (kind config, CNI
 * manifest, probe pods) and the argv of every command in order, with the advice to
 * give when a step fails. `podpath lab create --dry-run` prints exactly this; the
 * platform runner executes it.
 */
import { calicoManifestFor, flannelManifestFor } from './cniManifests';
import { kindClusterConfig } from './kindConfig';
import type { KindLabModeInfo, KubeProxyMode } from './modes';
import { PROBE_NAMESPACE, probeManifest } from './probeManifests';

export type LabPhase = 'cluster' | 'nodes' | 'cni' | 'wait' | 'probes';

export interface LabStep {
  /** Stable id, e.g. `create-cluster`, `cni-plugin-bridge@lab-worker`. */
  id: string;
  phase: LabPhase;
  /** One line for progress. */
  title: string;
  argv: string[];
  timeoutMs: number;
  /** A failed optional step is reported and the creation goes on. */
  optional?: boolean;
  /** What to tell a person when the step fails: the likely cause and the fix. */
  hint: string;
}

export interface LabFile {
  /** File name inside the output folder. */
  name: string;
  content: string;
}

export interface KindLabPlan {
  name: string;
  mode: KindLabModeInfo;
  kubeProxyMode: KubeProxyMode;
  /** kubectl context kind creates: `kind-<name>`. */
  context: string;
  controlPlane: string;
  workers: [string, string];
  files: LabFile[];
  steps: LabStep[];
  /** Undoes a partial or finished creation. */
  cleanup: LabStep[];
}

export interface KindLabPlanInput {
  name: string;
  mode: KindLabModeInfo;
  kubeProxyMode: KubeProxyMode;
  /** Absolute folder the files are written to (argv names them there). */
  outDir: string;
  probeImage: string;
  /** `kindest/node:…`; kind's default for its version when absent. */
  nodeImage?: string;
  /** Host folder holding the CNI plugins Flannel needs (bridge, portmap, host-local). */
  hostCniBinDir: string;
  /** Upstream manifests, as vendored. */
  manifests: { flannel: string; calico: string };
}

/** Plugins Flannel's cni-conf.json delegates to (bridge with host-local IPAM, portmap). */
export const FLANNEL_CNI_PLUGINS = ['bridge', 'portmap', 'host-local'] as const;

const MINUTE = 60_000;

function kubeProxyModules(mode: KubeProxyMode): string[] {
  if (mode === 'ipvs') return ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'nf_conntrack'];
  if (mode === 'nftables') return ['nf_tables'];
  return [];
}

function join(dir: string, file: string): string {
  return dir.endsWith('/') ? `${dir}${file}` : `${dir}/${file}`;
}

/** kind names a cluster's nodes `<name>-control-plane`, `<name>-worker`, `<name>-worker2`, … */
export function kindNodeNames(name: string): { controlPlane: string; workers: [string, string] } {
  return { controlPlane: `${name}-control-plane`, workers: [`${name}-worker`, `${name}-worker2`] };
}

/** The files and the ordered commands that create the lab cluster `input.name`. */
export function kindLabPlan(input: KindLabPlanInput): KindLabPlan {
  const { name, mode, kubeProxyMode, outDir } = input;
  const context = `kind-${name}`;
  const { controlPlane, workers } = kindNodeNames(name);
  const nodes = [controlPlane, ...workers];
  const kubectl = (...args: string[]): string[] => ['kubectl', '--context', context, ...args];

  const files: LabFile[] = [
    { name: 'kind-config.yaml', content: kindClusterConfig({ name, mode, kubeProxyMode }) },
  ];
  if (mode.cni === 'flannel') {
    files.push({ name: 'cni.yaml', content: flannelManifestFor(input.manifests.flannel, mode) });
  } else if (mode.cni === 'calico') {
    files.push({ name: 'cni.yaml', content: calicoManifestFor(input.manifests.calico, mode) });
  }
  files.push({
    name: 'probe-pods.yaml',
    content: probeManifest({ lab: name, workers, image: input.probeImage }),
  });

  const steps: LabStep[] = [
    {
      id: 'create-cluster',
      phase: 'cluster',
      title: `Create kind cluster ${name} (1 control plane, 2 workers)`,
      argv: [
        'kind',
        'create',
        'cluster',
        '--config',
        join(outDir, 'kind-config.yaml'),
        '--name',
        name,
        ...(input.nodeImage ? ['--image', input.nodeImage] : []),
      ],
      timeoutMs: 10 * MINUTE,
      hint: `Check that Docker runs (\`docker info\`) and kind is installed; if a cluster named ${name} already exists, delete it with \`kind delete cluster --name ${name}\` or choose another --name.`,
    },
    {
      id: 'list-nodes',
      phase: 'cluster',
      title: `Check the nodes kind created`,
      argv: ['kind', 'get', 'nodes', '--name', name],
      timeoutMs: MINUTE,
      hint: `kind did not list the cluster's nodes; run \`kind get nodes --name ${name}\` to see what it has.`,
    },
  ];

  if (mode.cni === 'flannel') {
    for (const node of nodes) {
      steps.push({
        id: `cni-dir@${node}`,
        phase: 'nodes',
        title: `${node}: make /opt/cni/bin`,
        argv: ['docker', 'exec', node, 'mkdir', '-p', '/opt/cni/bin', '/etc/cni/net.d'],
        timeoutMs: MINUTE,
        hint: `docker exec into ${node} failed; is the node container running (\`docker ps\`)?`,
      });
      for (const plugin of FLANNEL_CNI_PLUGINS) {
        steps.push({
          id: `cni-plugin-${plugin}@${node}`,
          phase: 'nodes',
          title: `${node}: copy the ${plugin} CNI plugin`,
          argv: [
            'docker',
            'cp',
            join(input.hostCniBinDir, plugin),
            `${node}:/opt/cni/bin/${plugin}`,
          ],
          timeoutMs: MINUTE,
          hint: `Flannel needs the ${plugin} CNI plugin, which kind node images lack or may lack: install the CNI plugins on this machine (Debian/Ubuntu: \`apt-get install containernetworking-plugins\`, into /usr/lib/cni) or pass --cni-bin-dir DIR.`,
        });
      }
    }
  }

  const modules = [...mode.modules, ...kubeProxyModules(kubeProxyMode)];
  for (const module of modules) {
    // kind nodes share the host's kernel: loading a module once loads it for every node.
    steps.push({
      id: `modprobe-${module}`,
      phase: 'nodes',
      title: `Load kernel module ${module}`,
      argv: ['docker', 'exec', controlPlane, 'modprobe', module],
      timeoutMs: MINUTE,
      hint: `The ${module} module could not be loaded from inside the node: load it on this machine with \`sudo modprobe ${module}\` and run again${module === 'ipip' ? " (Calico IPIP needs the host kernel's ipip module)" : ''}.`,
    });
  }

  const sysctls = ['net.ipv4.ip_forward=1'];
  if (mode.cni === 'flannel') sysctls.push('net.bridge.bridge-nf-call-iptables=1');
  for (const node of nodes) {
    steps.push({
      id: `sysctl@${node}`,
      phase: 'nodes',
      title: `${node}: ${sysctls.join(', ')}`,
      argv: ['docker', 'exec', node, 'sysctl', '-w', ...sysctls],
      timeoutMs: MINUTE,
      hint: `Setting ${sysctls.join(' and ')} in ${node} failed; net.bridge.* needs the br_netfilter module (\`sudo modprobe br_netfilter\` on this machine).`,
    });
  }
  for (const node of nodes) {
    steps.push({
      id: `tcpdump-update@${node}`,
      phase: 'nodes',
      title: `${node}: apt-get update (for tcpdump)`,
      argv: ['docker', 'exec', node, 'apt-get', 'update', '-qq'],
      timeoutMs: 5 * MINUTE,
      optional: true,
      hint: `${node} could not reach Debian's package mirrors, so tcpdump cannot be installed there; node-side captures will be missing until it is (\`docker exec ${node} apt-get install -y tcpdump\`).`,
    });
    steps.push({
      id: `tcpdump@${node}`,
      phase: 'nodes',
      title: `${node}: install tcpdump`,
      argv: [
        'docker',
        'exec',
        '-e',
        'DEBIAN_FRONTEND=noninteractive',
        node,
        'apt-get',
        'install',
        '-y',
        '-qq',
        '--no-install-recommends',
        'tcpdump',
      ],
      timeoutMs: 5 * MINUTE,
      optional: true,
      hint: `tcpdump could not be installed in ${node}; node-side captures will be missing until it is (\`docker exec ${node} apt-get install -y tcpdump\`).`,
    });
  }

  if (mode.cni !== 'kindnet') {
    steps.push({
      id: 'apply-cni',
      phase: 'cni',
      title: `Apply ${mode.title} (cni.yaml)`,
      argv: kubectl('apply', '-f', join(outDir, 'cni.yaml')),
      timeoutMs: 3 * MINUTE,
      hint: `kubectl could not apply cni.yaml to ${context}; check \`kubectl --context ${context} get nodes\`.`,
    });
  }
  const rollouts: [string, string][] =
    mode.cni === 'flannel'
      ? [['kube-flannel', 'daemonset/kube-flannel-ds']]
      : mode.cni === 'calico'
        ? [
            ['kube-system', 'daemonset/calico-node'],
            ['kube-system', 'deployment/calico-kube-controllers'],
          ]
        : [['kube-system', 'daemonset/kindnet']];
  for (const [ns, object] of rollouts) {
    steps.push({
      id: `rollout-${object.replace('/', '-')}`,
      phase: 'wait',
      title: `Wait for ${object} in ${ns}`,
      argv: kubectl('-n', ns, 'rollout', 'status', object, '--timeout=600s'),
      timeoutMs: 11 * MINUTE,
      hint: `${object} did not become ready: see \`kubectl --context ${context} -n ${ns} get pods -o wide\` and the pods' events (an image that cannot be pulled, a missing CNI plugin or kernel module).`,
    });
  }
  steps.push({
    id: 'nodes-ready',
    phase: 'wait',
    title: 'Wait for every node to be Ready',
    argv: kubectl('wait', '--for=condition=Ready', 'nodes', '--all', '--timeout=300s'),
    timeoutMs: 6 * MINUTE,
    hint: `Some node stayed NotReady: \`kubectl --context ${context} describe nodes\` says why (usually the CNI).`,
  });
  steps.push({
    id: 'apply-probes',
    phase: 'probes',
    title: `Deploy pod-a on ${workers[0]}, pod-b on ${workers[1]} and Service probe`,
    argv: kubectl('apply', '-f', join(outDir, 'probe-pods.yaml')),
    timeoutMs: 2 * MINUTE,
    hint: `kubectl could not apply probe-pods.yaml to ${context}.`,
  });
  steps.push({
    id: 'probes-ready',
    phase: 'probes',
    title: 'Wait for the probe pods',
    argv: kubectl(
      '-n',
      PROBE_NAMESPACE,
      'wait',
      '--for=condition=Ready',
      'pod',
      '--all',
      '--timeout=300s',
    ),
    timeoutMs: 6 * MINUTE,
    hint: `The probe pods did not start: \`kubectl --context ${context} -n ${PROBE_NAMESPACE} describe pods\` (is the image ${input.probeImage} reachable from the nodes?).`,
  });
  steps.push({
    id: 'probes-listed',
    phase: 'probes',
    title: 'List the probe pods and their IPs',
    argv: kubectl('-n', PROBE_NAMESPACE, 'get', 'pods', '-o', 'wide'),
    timeoutMs: MINUTE,
    hint: `kubectl could not list the probe pods in ${context}.`,
  });

  const cleanup: LabStep[] = [
    {
      id: 'delete-cluster',
      phase: 'cluster',
      title: `Delete kind cluster ${name}`,
      argv: ['kind', 'delete', 'cluster', '--name', name],
      timeoutMs: 5 * MINUTE,
      hint: `Delete it by hand: \`kind delete cluster --name ${name}\`.`,
    },
  ];
  return { name, mode, kubeProxyMode, context, controlPlane, workers, files, steps, cleanup };
}
