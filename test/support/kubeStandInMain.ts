/**
 * Runs the API stand-in in a process of its own (for the cluster benchmark, so its objects do
 * not count in the measured process): `--nodes N --pods M`. Prints one JSON line with the URL,
 * the CA file and a token once it listens; stops on SIGTERM.
 */
import { KubeApiStandIn, makeCertificates } from './kubeApiStandIn';
import { scaleObjects } from './kubeScale';

async function main(): Promise<void> {
  const arg = (name: string, fallback: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : fallback;
  };
  const certs = await makeCertificates();
  const api = new KubeApiStandIn({ certs, tokens: { bench: 'admin' } });
  api.load(scaleObjects(arg('nodes', 5000), arg('pods', 150_000)));
  await api.start();
  process.stdout.write(
    `${JSON.stringify({ url: api.url, caFile: api ? certs.caFile : '', token: 'bench', dir: certs.dir })}\n`,
  );
  process.on('SIGTERM', () => void api.stop().then(() => process.exit(0)));
}

void main();
