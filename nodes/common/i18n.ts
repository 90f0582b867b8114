// Message lookup that never shows an operator a bare catalog key: when the runtime has no catalog
// for the key (node-red-node-test-helper stubs RED._), the en-US catalog beside the node is used.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RedAPI } from './node-red';

const catalogs = new Map<string, Record<string, unknown>>();

function catalog(namespace: string): Record<string, unknown> {
  let cat = catalogs.get(namespace);
  if (!cat) {
    try {
      cat = JSON.parse(readFileSync(join(__dirname, '..', 'locales', 'en-US', `${namespace}.json`), 'utf8')) as Record<string, unknown>;
    } catch {
      cat = {};
    }
    catalogs.set(namespace, cat);
  }
  return cat;
}

function lookup(key: string): string | undefined {
  const [namespace] = key.split('.');
  let at: unknown = catalog(namespace);
  for (const part of key.split('.')) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return typeof at === 'string' ? at : undefined;
}

export function translator(RED: RedAPI): (key: string, subs?: Record<string, unknown>) => string {
  return (key, subs = {}) => {
    let text = RED._(key, subs);
    if (text === key) {
      const fallback = lookup(key);
      if (fallback) text = fallback.replace(/__(\w+)__/g, (_, name: string) => (name in subs ? String(subs[name]) : `__${name}__`));
    }
    return text;
  };
}
