/**
 * One hop's packets as a table, PAGE_SIZE rows at a time, with a filter box, sorting and
 * a page jump that work over the whole hop. The first page comes with the view; any other
 * page, order or filter is asked of the host (`queryPackets`), which decodes just that page
 * from the capture file, so a million-packet hop costs one page of DOM and one page of
 * decoding. Clicking a row, or Enter on a focused row, selects that packet; the host then
 * follows it through every hop ("follow this packet").
 */
import type { FollowedHop, HopView, SortColumn, TablePage, TableQuery } from '../src/protocol';
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

const SORTS: { value: SortColumn; label: string }[] = [
  { value: 'index', label: 'capture order' },
  { value: 'time', label: 'time' },
  { value: 'source', label: 'source' },
  { value: 'destination', label: 'destination' },
  { value: 'protocol', label: 'protocol' },
  { value: 'ttl', label: 'TTL' },
  { value: 'length', label: 'length' },
];

/** What the person asked of the table, page excepted. */
export type TableSettings = Omit<TableQuery, 'offset' | 'count'>;

export const DEFAULT_SETTINGS: TableSettings = {
  filter: '',
  probeOnly: false,
  notSeenAtNextHop: false,
  sort: 'index',
  descending: false,
};

export function isDefaultSettings(s: TableSettings): boolean {
  return (
    s.filter.trim() === '' &&
    !s.probeOnly &&
    !s.notSeenAtNextHop &&
    s.sort === 'index' &&
    !s.descending
  );
}

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

/** `rows 501–1,000 of 1,000,000`, or of the packets that pass the filter. */
export function pageLabel(matching: number, total: number, page: number): string {
  if (matching === 0) return total === 0 ? 'No packets' : `No packet of ${count(total)} passes`;
  const first = page * PAGE_SIZE + 1;
  const last = Math.min(matching, (page + 1) * PAGE_SIZE);
  const range = `rows ${count(first)}–${count(last)} of ${count(matching)}`;
  return matching < total ? `${range} (filtered from ${count(total)})` : range;
}

export function pageCount(matching: number): number {
  return Math.max(1, Math.ceil(matching / PAGE_SIZE));
}

/** The page the view brought with it, when the settings ask for nothing else. */
export function localPage(hop: HopView, page: number, settings: TableSettings): TablePage | null {
  if (!isDefaultSettings(settings)) return null;
  const start = page * PAGE_SIZE;
  const have = hop.rows.length;
  const end = Math.min(hop.packetCount, start + PAGE_SIZE);
  if (start > 0 && start >= have) return null;
  if (end > have && hop.truncated) return null;
  const rows = hop.rows.slice(start, start + PAGE_SIZE);
  return {
    matching: hop.truncated ? hop.packetCount : have,
    offset: start,
    rows,
    indices: rows.map((_, i) => start + i),
    filterError: null,
  };
}

export interface PacketTableView {
  element: HTMLElement;
  /** Shows `hop`; `page` null means "asked of the host, not here yet". */
  show(hop: HopView | undefined, settings: TableSettings, page: TablePage | null): void;
  setSelected(index: number | null): void;
  /** The selected packet at every hop, or null to hide that row. */
  showFollowed(hops: FollowedHop[] | null, onHop: (hop: number, index: number) => void): void;
}

export function createPacketTable(handlers: {
  /** A new page (0-based) under the current settings. */
  onPage: (page: number) => void;
  onSettings: (settings: TableSettings) => void;
  onSelect: (index: number) => void;
}): PacketTableView {
  let settings: TableSettings = DEFAULT_SETTINGS;
  let page = 0;
  let matching = 0;
  const issues = el('div');

  const filter = el('input', {
    className: 'pp-filter',
    attrs: {
      type: 'search',
      placeholder: 'Filter: address, port N, icmp/tcp/udp, ttl N',
      'aria-label': 'Filter packets',
    },
  });
  const checkbox = (label: string): { box: HTMLInputElement; element: HTMLElement } => {
    const box = el('input', { attrs: { type: 'checkbox' } });
    return {
      box,
      element: el('label', { className: 'pp-check' }, [box, el('span', { text: label })]),
    };
  };
  const probeOnly = checkbox('probe only');
  const notSeen = checkbox('not seen at next hop');
  const sort = el('select', { attrs: { 'aria-label': 'Sort by' } });
  for (const s of SORTS)
    sort.appendChild(el('option', { text: s.label, attrs: { value: s.value } }));
  const descending = checkbox('descending');
  const filterError = el('span', { className: 'pp-error', attrs: { 'aria-live': 'polite' } });
  const apply = (): void => {
    settings = {
      filter: filter.value,
      probeOnly: probeOnly.box.checked,
      notSeenAtNextHop: notSeen.box.checked,
      sort: sort.value as SortColumn,
      descending: descending.box.checked,
    };
    handlers.onSettings(settings);
  };
  let typing: ReturnType<typeof setTimeout> | undefined;
  filter.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(apply, 250);
  });
  filter.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      clearTimeout(typing);
      apply();
    }
  });
  for (const c of [probeOnly.box, notSeen.box, descending.box, sort]) {
    c.addEventListener('change', apply);
  }
  const controls = el('div', { className: 'pp-pager' }, [
    filter,
    probeOnly.element,
    notSeen.element,
    el('span', { className: 'pp-muted', text: 'sort' }),
    sort,
    descending.element,
    filterError,
  ]);

  const label = el('span', { className: 'pp-muted', attrs: { 'aria-live': 'polite' } });
  const prev = createButton('Prev', () => handlers.onPage(page - 1), { title: 'Previous page' });
  const next = createButton('Next', () => handlers.onPage(page + 1), { title: 'Next page' });
  const jump = el('input', {
    className: 'pp-page',
    attrs: { type: 'number', min: '1', 'aria-label': 'Go to page' },
  });
  jump.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter') return;
    const n = Number(jump.value);
    if (Number.isInteger(n) && n >= 1) handlers.onPage(Math.min(n, pageCount(matching)) - 1);
  });
  const pager = el('div', { className: 'pp-pager' }, [
    prev,
    next,
    el('span', { text: 'page' }),
    jump,
    label,
  ]);
  const table = createDataTable(COLUMNS, 'Packets', handlers.onSelect);
  const tableBox = el('div', { className: 'pp-table' }, [table.element]);
  const empty = el('p', { className: 'pp-empty', text: 'No packets' });
  const loading = el('p', { className: 'pp-muted', text: 'Reading the page from the capture…' });
  const followed = el('section', { attrs: { 'aria-label': 'This packet at every hop' } });
  const element = el('div', {}, [issues, controls, pager, loading, tableBox, empty, followed]);

  return {
    element,
    show(hop, wanted, shown) {
      settings = wanted;
      if (filter.value !== wanted.filter && document.activeElement !== filter) {
        filter.value = wanted.filter;
      }
      probeOnly.box.checked = wanted.probeOnly;
      notSeen.box.checked = wanted.notSeenAtNextHop;
      sort.value = wanted.sort;
      descending.box.checked = wanted.descending;
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
      const total = hop?.packetCount ?? 0;
      controls.hidden = total === 0;
      loading.hidden = shown !== null || total === 0;
      if (!hop || total === 0 || shown === null) {
        pager.hidden = true;
        tableBox.hidden = true;
        empty.hidden = shown === null && total > 0;
        if (total === 0) table.setRows([], []);
        return;
      }
      matching = shown.matching;
      page = Math.floor(shown.offset / PAGE_SIZE);
      filterError.textContent = shown.filterError ?? '';
      const hasRows = shown.rows.length > 0;
      pager.hidden = false;
      prev.hidden = next.hidden = jump.hidden = matching <= PAGE_SIZE;
      tableBox.hidden = !hasRows;
      empty.hidden = hasRows;
      table.setRows(shown.rows.map(cells), shown.indices);
      label.textContent = `${pageLabel(matching, total, page)} · page ${count(page + 1)} of ${count(pageCount(matching))}`;
      jump.value = String(page + 1);
      setButtonDisabled(prev, page === 0);
      setButtonDisabled(next, page >= pageCount(matching) - 1);
    },
    setSelected(index) {
      table.setSelected(index);
    },
    showFollowed(hops, onHop) {
      clear(followed);
      if (!hops || hops.length === 0) return;
      followed.appendChild(el('h3', { text: 'This packet at every hop' }));
      const items = hops.map((h, i) => {
        const parts = [h.hop];
        if (h.index === null) parts.push('not there');
        else {
          parts.push(`#${count(h.index + 1)}`);
          if (h.ttl !== null) parts.push(`TTL ${h.ttl}`);
          if (h.row) parts.push(`${h.row.source} → ${h.row.destination}`);
          if (h.outer) parts.push(h.outer);
          if (h.macs) parts.push(h.macs);
          if (h.nat) parts.push(`NAT: ${h.nat}`);
        }
        const item = el('li', {
          className: h.index === null ? 'pp-muted' : '',
          text: parts.join(' · '),
        });
        if (h.index !== null) {
          const at = h.index;
          item.setAttribute('tabindex', '0');
          item.setAttribute('role', 'button');
          item.addEventListener('click', () => onHop(i, at));
          item.addEventListener('keydown', (e) => {
            if (e.key === 'Enter') onHop(i, at);
          });
        }
        return item;
      });
      followed.appendChild(el('ol', { className: 'pp-list' }, items));
    },
  };
}
