#!/usr/bin/python3
"""window.py PLAN OUT: runs an interleaved A/B plan (bench/RESULTS.md (g)) while holding the
benchmark lock /tmp/bench.running (NOLOCK=1: without it); PRIO=-15 (with setsid) raises this
session's autogroup above the other sessions' while measuring. One JSON line per step in OUT.
PLAN is a python file defining ROUNDS (int) and STEPS: list of (label, env dict, argv)."""
import os, sys, json, time, subprocess, signal
plan = {}
exec(open(sys.argv[1]).read(), plan)
out = open(sys.argv[2], 'a')
LOCK = '/tmp/bench.running'
hz = os.sysconf('SC_CLK_TCK')
def busy():
    f = open('/proc/stat').readline().split()
    return sum(int(x) for x in (f[1], f[2], f[3], f[6], f[7], f[8])) / hz
def cleanup(*a):
    try: os.remove(LOCK)
    except OSError: pass
    if a: sys.exit(1)
signal.signal(signal.SIGTERM, cleanup); signal.signal(signal.SIGINT, cleanup)
t_start = time.time()
if os.environ.get('PRIO'):
    # this session's autogroup (setsid) gets priority over the other helpers' sessions while measuring
    open('/proc/self/autogroup', 'w').write(os.environ['PRIO'])
    out.write(json.dumps({"label": "_prio", "autogroup": open('/proc/self/autogroup').read().strip()}) + "\n")
if not os.environ.get('NOLOCK'): open(LOCK, 'w').write('ortperf %d\n' % os.getpid())
try:
    # wait (at most MAXWAIT s) for builds already running to end
    waited = 0
    while waited < plan.get('MAXWAIT', 45):
        b0 = busy(); time.sleep(1); b1 = busy(); waited += 1
        if (b1 - b0) / 2 < 0.10: break
    out.write(json.dumps({"label": "_wait", "waited": waited, "t": time.time()}) + "\n")
    for r in range(plan['ROUNDS']):
        for label, env, argv in plan['STEPS']:
            if time.time() - t_start > plan.get('DEADLINE', 330): raise SystemExit('deadline')
            e = dict(os.environ); e.update(env)
            b0 = busy(); t0 = time.time()
            p = subprocess.run([os.path.join(os.path.dirname(os.path.abspath(__file__)), 'runone.sh')] + argv, env=e, capture_output=True, text=True)
            t1 = time.time(); b1 = busy()
            try: d = json.loads(p.stdout.strip().splitlines()[-1])
            except Exception: d = {"err": p.stdout[-300:] + p.stderr[-300:]}
            d.update(label=label, round=r, t0=t0, t1=t1, machine_busy_s=b1 - b0)
            out.write(json.dumps(d) + "\n"); out.flush()
finally:
    cleanup()
    out.write(json.dumps({"label": "_end", "held_s": time.time() - t_start}) + "\n")
