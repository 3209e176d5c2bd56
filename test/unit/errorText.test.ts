import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ToolError } from '../../src/platform/exec/runner';
import { errorMessage } from '../../src/ui/commands/errorText';

test('errorMessage: what failed, why, and what to do', () => {
  assert.equal(
    errorMessage(
      'Running the lab',
      new ToolError('not-found', ['tcpdump', '-i', 'eth0'], null, ''),
    ),
    'Podpath: Running the lab failed: tcpdump is not installed or not on PATH (running: tcpdump -i eth0). Install tcpdump and make sure it is on PATH.',
  );
  assert.equal(
    errorMessage(
      'Analyzing the capture files',
      new Error('cannot read /x.pcap: permission denied'),
    ),
    'Podpath: Analyzing the capture files failed: cannot read /x.pcap: permission denied. See the log for details.',
  );
  // A reason that already says what to do gets no generic advice.
  assert.equal(
    errorMessage(
      'Running the lab',
      new Error('Labs need root: run as root (sudo podpath lab run …).'),
    ),
    'Podpath: Running the lab failed: Labs need root: run as root (sudo podpath lab run …).',
  );
  assert.match(
    errorMessage('x', new ToolError('exit', ['ip', 'link'], 2, 'RTNETLINK answers: File exists')),
    /failed: ip link failed with exit code 2: RTNETLINK answers: File exists\. See the log/,
  );
});
