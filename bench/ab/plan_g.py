# bench/RESULTS.md (g): 4 interleaved rounds, the old graph arena (VIDSIFT_AB_ARENA=extra, a build of
# commit c559003 with the temporary switch) against the new one; run: PRIO=-15 setsid bench/ab/window.py bench/ab/plan_g.py OUT.jsonl
import os
exec(open(os.path.join(os.environ.get('AB_DIR', 'bench/ab'), 'plan_common.py')).read())
ROUNDS = 4; MAXWAIT = 3; DEADLINE = 300
STEPS = [
  ('ceil.yolox', {}, ['ceiling', f'{M}/yolox_nano.onnx', '4']),
  ('yolox.vtest.extra', X, ['vidsift', B, f'{C}/vtest.avi'] + yx + ['--end', '40']),
  ('yolox.vtest.arenaW', {}, ['vidsift', B, f'{C}/vtest.avi'] + yx + ['--end', '40']),
  ('yolox.arch20.dec2.extra', X, ['vidsift', B] + arch + yx + ['--fps', '2', '--decoders', '2']),
  ('yolox.arch20.dec1.extra', X, ['vidsift', B] + arch + yx + ['--fps', '2', '--decoders', '1']),
  ('yolox.arch20.dec1.arenaW', {}, ['vidsift', B] + arch + yx + ['--fps', '2', '--decoders', '1']),
  ('yolox.1080p.extra', X, ['vidsift', B, f'{C}/h264_1080p_60s.mp4'] + yx + ['--end', '10']),
  ('yolox.1080p.arenaW', {}, ['vidsift', B, f'{C}/h264_1080p_60s.mp4'] + yx + ['--end', '10']),
  ('ceil.v8', {}, ['ceiling', f'{M}/yolov8n_stock.onnx', '4']),
  ('v8.vtest.extra', X, ['vidsift', B, f'{C}/vtest.avi'] + v8 + ['--end', '10']),
  ('v8.vtest.arenaW', {}, ['vidsift', B, f'{C}/vtest.avi'] + v8 + ['--end', '10']),
]
