// What is still running in a lab's network namespaces, for the root tests' "nothing left" checks.
import { runTool } from '../../src/platform/exec/runner';
import type { LabTopology } from '../../src/platform/netns/labBuild';

/** tcpdump processes in the lab's namespaces (`ip netns pids`, then their command names). */
export async function tcpdumpsIn(topology: LabTopology): Promise<string[]> {
  // Stopping is asynchronous (a second exec sends the signal): give it a moment.
  for (let attempt = 0; attempt < 20; attempt++) {
    const found: string[] = [];
    for (const ns of topology.namespaces) {
      const pids = (await runTool(['ip', 'netns', 'pids', ns])).stdout.split('\n').filter(Boolean);
      for (const pid of pids) {
        const comm = await runTool(['cat', `/proc/${pid}/comm`], { okExitCodes: [0, 1] });
        if (comm.stdout.trim() === 'tcpdump') found.push(`${ns}:${pid}`);
      }
    }
    if (found.length === 0) return found;
    await new Promise((r) => setTimeout(r, 250));
  }
  return ['still running after 5 s'];
}
