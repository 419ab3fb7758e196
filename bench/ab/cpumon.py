#!/usr/bin/python3
"""cpumon.py CMD... : runs CMD, polls /proc/PID/task/*/stat every 20 ms,
prints JSON: wall, user+sys of the process (from wait4 rusage), per-thread cpu s."""
import os, sys, time, json, resource
hz = os.sysconf('SC_CLK_TCK')
t0 = time.time()
pid = os.fork()
if pid == 0:
    fd = os.open('/dev/null', os.O_WRONLY); os.dup2(fd, 1)
    os.execvp(sys.argv[1], sys.argv[1:])
threads = {}
while True:
    r = os.wait4(pid, os.WNOHANG)
    if r[0] == pid: break
    try:
        for tid in os.listdir(f'/proc/{pid}/task'):
            try:
                s = open(f'/proc/{pid}/task/{tid}/stat').read()
                comm = s[s.index('(')+1:s.rindex(')')]
                f = s[s.rindex(')')+2:].split()
                cpu = (int(f[11]) + int(f[12])) / hz
                st = open(f'/proc/{pid}/task/{tid}/status').read().split('\n')
                vcs = [int(l.split()[1]) for l in st if 'ctxt_switches' in l]
                threads[tid] = (comm, cpu, vcs[0], vcs[1])
            except OSError: pass
    except OSError: pass
    time.sleep(0.02)
wall = time.time() - t0
ru = r[2]
out = {"wall": round(wall, 3), "user": ru.ru_utime, "sys": ru.ru_stime, "cpu": round(ru.ru_utime + ru.ru_stime, 3),
       "rc": os.waitstatus_to_exitcode(r[1]), "maxrss_mb": ru.ru_maxrss / 1024, "nvcsw": ru.ru_nvcsw, "nivcsw": ru.ru_nivcsw,
       "threads": sorted([[c, round(v, 2), a, b] for c, v, a, b in threads.values() if v > 0 or a > 5], key=lambda x: -x[1])}
print(json.dumps(out))
