/**
 * One hop's packets as a table, a page of PAGE_SIZE rows at a time so that a
 * capture of many thousands of packets costs no more than one page of DOM.
 * Clicking a row, or Enter on a focused row, selects that packet.
 */
import type { HopView } from '../src/protocol';
import type { PacketRow } from '../src/core/packets/packetSummary';
import { clear, el } from './element';
import { createDataTable } from './ui/dataTable';
import { createButton, setButtonDisabled } from './ui/toolkit';

export const PAGE_SIZE = 500;

const COLUMNS = [
  { title: 'Time', width: '10em' },
  { title: 'Source → Destination', width: '24%' },
  { title: 'Protocol', width: '5.5em' },
  { title: 'TTL', width: '3.5em' },
  { title: 'frame', width: '4em' },
  { title: 'IP length', width: '4.5em' },
  { title: 'Encapsulation', width: '25%' },
  { title: 'Info' },
] as const;

function cells(row: PacketRow): string[] {
  const path = row.source || row.destination ? `${row.source} → ${row.destination}` : '';
  return [
    row.time,
    path,
    row.protocol,
    row.ttl === null ? '' : String(row.ttl),
    row.frameLength === null ? '' : String(row.frameLength),
    row.ipLength === null ? '' : String(row.ipLength),
    row.encapsulation,
    row.info,
  ];
}

const count = (n: number): string => n.toLocaleString('en-US');

/** `rows 1–500 of 5,000`, plus how many packets were not sent when capped. */
export function pageLabel(hop: HopView, page: number): string {
  const total = hop.rows.length;
  const first = page * PAGE_SIZE + 1;
  const last = Math.min(total, (page + 1) * PAGE_SIZE);
  const range = `rows ${count(first)}–${count(last)} of ${count(total)}`;
  return hop.truncated && hop.packetCount > total
    ? `${range} (the first ${count(total)} of ${count(hop.packetCount)} packets)`
    : range;
}

export function pageCount(hop: HopView): number {
  return Math.max(1, Math.ceil(hop.rows.length / PAGE_SIZE));
}

export interface PacketTableView {
  element: HTMLElement;
  show(hop: HopView | undefined, page: number, selected: number | null): void;
  setSelected(index: number | null): void;
}

export function createPacketTable(handlers: {
  onPage: (page: number) => void;
  onSelect: (index: number) => void;
}): PacketTableView {
  let page = 0;
  const issues = el('div');
  const label = el('span', { className: 'pp-muted', attrs: { 'aria-live': 'polite' } });
  const prev = createButton('Prev', () => handlers.onPage(page - 1), { title: 'Previous page' });
  const next = createButton('Next', () => handlers.onPage(page + 1), { title: 'Next page' });
  const pager = el('div', { className: 'pp-pager' }, [prev, next, label]);
  const table = createDataTable(COLUMNS, 'Packets', handlers.onSelect);
  const tableBox = el('div', { className: 'pp-table' }, [table.element]);
  const empty = el('p', { className: 'pp-empty', text: 'No packets' });
  const element = el('div', {}, [issues, pager, tableBox, empty]);

  return {
    element,
    show(hop, requestedPage, selected) {
      clear(issues);
      if (hop && hop.issues.length > 0) {
        issues.appendChild(
          el(
            'ul',
            { className: 'pp-list pp-error', attrs: { 'aria-label': 'Problems reading this hop' } },
            hop.issues.map((issue) => el('li', { text: issue })),
          ),
        );
      }
      const rows = hop?.rows ?? [];
      const hasRows = rows.length > 0;
      pager.hidden = !hasRows;
      prev.hidden = next.hidden = rows.length <= PAGE_SIZE;
      tableBox.hidden = !hasRows;
      empty.hidden = hasRows;
      if (!hop || !hasRows) {
        table.setRows([], []);
        return;
      }
      page = Math.min(Math.max(0, requestedPage), pageCount(hop) - 1);
      const start = page * PAGE_SIZE;
      const slice = rows.slice(start, start + PAGE_SIZE);
      table.setRows(
        slice.map(cells),
        slice.map((_, i) => start + i),
      );
      table.setSelected(selected);
      label.textContent = pageLabel(hop, page);
      setButtonDisabled(prev, page === 0);
      setButtonDisabled(next, page >= pageCount(hop) - 1);
    },
    setSelected(index) {
      table.setSelected(index);
    },
  };
}
