#!/usr/bin/python3
import json, sys, collections
rows = [json.loads(l) for l in open(sys.argv[1])]
by = collections.OrderedDict()
ceil = {}
for d in rows:
    if d['label'].startswith('_'): print(d); continue
    if d.get('kind') == 'ceiling':
        r = d['r']; v = (r['images_per_s'], r['cpu_ms_per_image'], None, None, None)
        ceil[(d['label'], d['round'])] = r
    elif d.get('kind') == 'vidsift':
        m = d['mon']; fr = d['frames']
        foreign = d['machine_busy_s'] - m['cpu']
        v = (fr / d['pipe_wall'], 1000 * m['cpu'] / fr, m['cpu'] / m['wall'] / 2, foreign / (d['t1'] - d['t0']) / 2, d['dets'])
    else:
        print('ERR', d); continue
    by.setdefault(d['label'], []).append((d['round'], v))
for lab, vs in by.items():
    fps = [v[0] for _, v in vs]; cpu = [v[1] for _, v in vs]
    s = f"{lab:28s} rate " + " ".join(f"{x:6.1f}" for x in fps) + " | cpu ms " + " ".join(f"{x:5.2f}" for x in cpu)
    if vs[0][1][2] is not None:
        s += " | util " + " ".join(f"{v[2]:.2f}" for _, v in vs) + " | foreign " + " ".join(f"{v[3]:.2f}" for _, v in vs) + " | " + " ".join(sorted(set(v[4] for _, v in vs)))
    print(s)
# ratios vs the ceiling measured in the same round
for lab, vs in by.items():
    key = 'ceil.v8' if lab.startswith('v8') else 'ceil.yolox'
    if lab.startswith('ceil') or 'arch' in lab or '1080' in lab and False: continue
    rs = []; rc = []
    for rnd, v in vs:
        c = ceil.get((key, rnd))
        if c: rs.append(v[0] / c['images_per_s']); rc.append(c['cpu_ms_per_image'] / v[1])
    if rs: print(f"{lab:28s} wall ratio " + " ".join(f"{x:.3f}" for x in rs) + f" mean {sum(rs)/len(rs):.3f} | cpu ratio " + " ".join(f"{x:.3f}" for x in rc) + f" mean {sum(rc)/len(rc):.3f}")
