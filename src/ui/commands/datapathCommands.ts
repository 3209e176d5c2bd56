/**
 * Show a datapath plan's diagram: from the Datapaths view (the choice comes as argument)
 * or from the palette (pick a CNI mode, then same-node or cross-node).
 */
import * as vscode from 'vscode';
import {
  CNI_MODES,
  buildDatapathPlan,
  defaultPlanInput,
  isCniMode,
} from '../../core/datapath/plans';
import type { CniMode, PlanInput } from '../../core/datapath/types';
import { datapathView } from '../panel/panelViews';
import type { CommandTable, Services } from '../services';
import type { DatapathChoice } from '../tree/datapathsTree';
import { placementsFor } from '../tree/datapathsTree';
import { CommandCancelled } from './commandErrors';

function isChoice(x: unknown): x is DatapathChoice {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as DatapathChoice).mode === 'string' &&
    isCniMode((x as DatapathChoice).mode)
  );
}

/** Asks for a CNI mode. */
export async function pickCniMode(title: string): Promise<CniMode> {
  const pick = await vscode.window.showQuickPick(
    CNI_MODES.map((m) => ({ label: m.title, detail: m.description, mode: m.mode })),
    { title, matchOnDetail: true, ignoreFocusOut: true },
  );
  if (!pick) throw new CommandCancelled();
  return pick.mode;
}

/** Asks where the two pods run. */
export async function pickPlacement(mode: CniMode): Promise<DatapathChoice> {
  const pick = await vscode.window.showQuickPick(
    placementsFor(mode).map((p) => ({ label: p.label, choice: p.choice })),
    { title: 'Podpath: where do the two pods run?', ignoreFocusOut: true },
  );
  if (!pick) throw new CommandCancelled();
  return pick.choice;
}

/** Plan input for a choice, with optional overrides from a manifest (VNI, port). */
export function planInputFor(
  choice: DatapathChoice,
  overrides: Partial<PlanInput> = {},
): PlanInput {
  return {
    ...defaultPlanInput(choice.mode, {
      sameNode: choice.sameNode,
      crossSubnet: choice.crossSubnet ?? false,
    }),
    ...overrides,
  };
}

export function datapathCommands(s: Services): CommandTable {
  return {
    'podpath.datapath.show': {
      what: 'Showing the datapath',
      run: async (arg?: unknown) => {
        const choice = isChoice(arg)
          ? arg
          : await pickPlacement(await pickCniMode('Podpath: which CNI datapath?'));
        const content = datapathView(buildDatapathPlan(planInputFor(choice)));
        s.panel.show(content);
        return content.view;
      },
    },
  };
}
