#!/usr/bin/env python3
"""Import circles between files of src/: `use crate::a::b`, `super::x`, `self::x` edges, then cycles."""
import glob, os, re, sys
root = sys.argv[1] if len(sys.argv) > 1 else 'src'
files = {}
for f in glob.glob(f'{root}/**/*.rs', recursive=True):
    rel = os.path.relpath(f, root)[:-3]
    parts = rel.split('/')
    if parts[-1] in ('mod', 'lib'): parts = parts[:-1]
    files[tuple(parts)] = f
def resolve(mod, path):
    # longest prefix of path that is a file module
    for n in range(len(path), 0, -1):
        if tuple(path[:n]) in files: return tuple(path[:n])
    return None
edges = {m: set() for m in files}
for m, f in files.items():
    src = open(f).read()
    src = re.sub(r'//[^\n]*', '', src)
    src = re.sub(r'#\[cfg\(test\)\]\s*mod tests\s*\{.*', '', src, flags=re.S)
    is_dir = f.endswith('mod.rs') or f.endswith('lib.rs')
    for use in re.findall(r'\buse\s+([^;]+);', src) + re.findall(r'\b((?:crate|super)(?:::\w+)+)', src):
        use = use.strip()
        for tree in re.findall(r'(?:crate|super|self)(?:::\w+)*(?:::\{[^}]*\})?', use):
            head = tree.split('::{')[0].split('::')
            tails = [t.strip().split('::')[0] for t in tree.split('::{')[1].rstrip('}').split(',')] if '::{' in tree else ['']
            for t in tails:
                p = head + ([t] if t else [])
                if p[0] == 'crate': base = list(p[1:])
                elif p[0] == 'super':
                    cur = list(m) if is_dir else list(m[:-1])
                    while p and p[0] == 'super':
                        p = p[1:]; cur = cur[:-1] if p and p[0] == 'super' else cur
                    base = cur + list(p)
                elif p[0] == 'self': base = list(m) + list(p[1:])
                else: continue
                target = resolve(m, base)
                if target is not None and target != m and target != ():
                    edges[m].add(target)
# cycles (Tarjan)
idx = {}; low = {}; st = []; on = set(); out = []; c = [0]
def sc(v):
    idx[v] = low[v] = c[0]; c[0] += 1; st.append(v); on.add(v)
    for w in edges[v]:
        if w not in idx: sc(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], idx[w])
    if low[v] == idx[v]:
        comp = []
        while True:
            w = st.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1: out.append(comp)
sys.setrecursionlimit(10000)
for v in edges:
    if v not in idx: sc(v)
for comp in out:
    names = ['/'.join(x) for x in comp]
    print('circle:', ' <-> '.join(sorted(names)))
    for a in comp:
        print('   ', '/'.join(a), '->', ', '.join('/'.join(b) for b in sorted(edges[a]) if b in comp))
if not out: print('no import circles')
sys.exit(1 if out else 0)
