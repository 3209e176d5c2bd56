import type { CommandTable, Services } from '../services';

export function logCommands(s: Services): CommandTable {
  return {
    'podpath.log.show': { what: 'Showing the log', run: () => s.log.show() },
  };
}
