/**
 * A read-only table of text rows with a selectable row. Built as a plain
 * <table role="grid">, not the toolkit's vscode-data-grid: in headless Chromium
 * a 500-row page took ~870 ms to build and lay out with the grid's custom
 * elements against ~85 ms for a table. It lives here so the panel's look stays
 * in one folder with the other components. Cells are filled with `textContent`.
 *
 * Keyboard: Tab reaches one row (roving tabindex); ↑ ↓ Home End move between
 * rows; Enter or Space activates, like a click.
 */
export interface DataColumn {
  title: string;
  /** A CSS width: `8em`, `20%`; omit to share what is left. */
  width?: string;
}

export interface DataTable {
  element: HTMLElement;
  /** Replaces the rows; `keys[i]` is what `onActivate` receives for row i. */
  setRows(rows: readonly (readonly string[])[], keys: readonly number[]): void;
  /** Marks the row with this key as selected (or none). */
  setSelected(key: number | null): void;
}

const KEY_ATTR = 'data-key';

export function createDataTable(
  columns: readonly DataColumn[],
  label: string,
  onActivate: (key: number) => void,
): DataTable {
  const table = document.createElement('table');
  table.className = 'pp-grid';
  table.setAttribute('role', 'grid');
  table.setAttribute('aria-readonly', 'true');
  table.setAttribute('aria-label', label);
  const colgroup = document.createElement('colgroup');
  const headRow = document.createElement('tr');
  for (const c of columns) {
    const col = document.createElement('col');
    if (c.width) col.style.width = c.width;
    colgroup.appendChild(col);
    const th = document.createElement('th');
    th.setAttribute('scope', 'col');
    th.textContent = c.title;
    headRow.appendChild(th);
  }
  const thead = document.createElement('thead');
  thead.appendChild(headRow);
  const tbody = document.createElement('tbody');
  table.append(colgroup, thead, tbody);

  let selected: number | null = null;
  const rowsByKey = new Map<number, HTMLTableRowElement>();

  const rowOf = (target: EventTarget | null): HTMLTableRowElement | null => {
    const row = target instanceof Element ? target.closest(`tr[${KEY_ATTR}]`) : null;
    return row instanceof HTMLTableRowElement ? row : null;
  };
  const keyOf = (row: HTMLTableRowElement): number => Number(row.getAttribute(KEY_ATTR));
  const focusRow = (row: HTMLTableRowElement | null | undefined): void => {
    if (!row) return;
    for (const other of rowsByKey.values()) other.tabIndex = -1;
    row.tabIndex = 0;
    row.focus();
  };

  tbody.addEventListener('click', (e) => {
    const row = rowOf(e.target);
    if (!row) return;
    focusRow(row);
    onActivate(keyOf(row));
  });
  tbody.addEventListener('keydown', (e) => {
    const row = rowOf(e.target);
    if (!row) return;
    const rows = tbody.rows;
    let target: HTMLTableRowElement | null | undefined;
    switch (e.key) {
      case 'Enter':
      case ' ':
        e.preventDefault();
        onActivate(keyOf(row));
        return;
      case 'ArrowDown':
        target = rows[row.sectionRowIndex + 1];
        break;
      case 'ArrowUp':
        target = rows[row.sectionRowIndex - 1];
        break;
      case 'Home':
        target = rows[0];
        break;
      case 'End':
        target = rows[rows.length - 1];
        break;
      default:
        return;
    }
    e.preventDefault();
    focusRow(target);
  });

  const markSelected = (): void => {
    for (const [key, row] of rowsByKey) {
      const on = key === selected;
      row.classList.toggle('pp-selected', on);
      row.setAttribute('aria-selected', on ? 'true' : 'false');
    }
  };

  return {
    element: table,
    setRows(rows, keys) {
      rowsByKey.clear();
      const body = document.createDocumentFragment();
      rows.forEach((values, r) => {
        const key = keys[r] ?? r;
        const tr = document.createElement('tr');
        tr.setAttribute(KEY_ATTR, String(key));
        tr.tabIndex = -1;
        for (const value of values) {
          const td = document.createElement('td');
          td.textContent = value;
          // The full text when the column cuts it short.
          td.title = value;
          tr.appendChild(td);
        }
        rowsByKey.set(key, tr);
        body.appendChild(tr);
      });
      tbody.replaceChildren(body);
      const first = (selected !== null ? rowsByKey.get(selected) : undefined) ?? tbody.rows[0];
      if (first) first.tabIndex = 0;
      markSelected();
    },
    setSelected(key) {
      selected = key;
      markSelected();
    },
  };
}
