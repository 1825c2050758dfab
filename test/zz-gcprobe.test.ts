import v8 from 'node:v8'; import vm from 'node:vm';
import { it, expect } from 'vitest';
import { aesKey, encryptStream } from '../src/index.js';
import { liveKeyCount } from '../src/backends/live-keys.js';
it('gc', async () => {
  v8.setFlagsFromString('--expose-gc'); const gc = vm.runInNewContext('gc') as () => void;
  const KEY = aesKey({ id: 'x', key: new Uint8Array(32).fill(1) });
  const before = liveKeyCount();
  const mk = () => { const ts = encryptStream({ recipients: [KEY], backend: 'node' }); return { r: ts.readable.getReader(), w: ts.writable.getWriter() }; };
  const { r, w } = mk();
  await r.read();
  for (let i = 0; i < 10; i++) { gc(); await new Promise((res) => setTimeout(res, 10)); }
  const live = liveKeyCount();
  const p = r.read();
  const e = await w.write(new Uint8Array(40000)).then(() => 'ok', (e) => String(e));
  console.log('live after gc', live - before, 'write', e);
  const pr = await Promise.race([p.then(x => 'read ' + x.value?.length), new Promise(r => setTimeout(() => r('timeout'), 500))]);
  console.log(pr);
  // pipeThrough case
  const src = new ReadableStream({ pull(c) { c.enqueue(new Uint8Array(1000)); } });
  const out = src.pipeThrough(encryptStream({ recipients: [KEY], backend: 'node' })).getReader();
  let n = 0; for (let i = 0; i < 200; i++) { const x = await out.read(); n += x.value?.length ?? 0; if (i % 20 === 0) gc(); await new Promise((res) => setImmediate(res)); }
  console.log('pipeThrough read', n);
});
