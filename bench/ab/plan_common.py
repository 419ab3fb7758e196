import os
C = '/root/.cache/vidsift-bench/corpus-v1'
M = '/work/shared/models'
B = os.environ.get('VIDSIFT', 'build/vidsift')
ROUNDS = 3
MAXWAIT = 40
DEADLINE = 345
arch = [f'{C}/archive/clip_{i:02d}.mp4' for i in range(20)]
X = {'VIDSIFT_AB_ARENA': 'extra'}
yx = ['--model', f'{M}/yolox_nano.onnx', '--backend', 'ort']
v8 = ['--model', f'{M}/yolov8n_stock.onnx', '--backend', 'ort']
STEPS = [
  ('ceil.yolox', {}, ['ceiling', f'{M}/yolox_nano.onnx', '4']),
  ('yolox.vtest.extra', X, ['vidsift', B, f'{C}/vtest.avi'] + yx + ['--end', '40']),
  ('yolox.vtest.arenaW', {}, ['vidsift', B, f'{C}/vtest.avi'] + yx + ['--end', '40']),
  ('yolox.arch20.dec2.extra', X, ['vidsift', B] + arch + yx + ['--fps', '2', '--decoders', '2']),
  ('yolox.arch20.dec2.arenaW', {}, ['vidsift', B] + arch + yx + ['--fps', '2', '--decoders', '2']),
  ('yolox.arch20.dec1.arenaW', {}, ['vidsift', B] + arch + yx + ['--fps', '2', '--decoders', '1']),
  ('yolox.1080p.extra', X, ['vidsift', B, f'{C}/h264_1080p_60s.mp4'] + yx + ['--end', '10']),
  ('yolox.1080p.arenaW', {}, ['vidsift', B, f'{C}/h264_1080p_60s.mp4'] + yx + ['--end', '10']),
  ('ceil.v8', {}, ['ceiling', f'{M}/yolov8n_stock.onnx', '4']),
  ('v8.vtest.extra', X, ['vidsift', B, f'{C}/vtest.avi'] + v8 + ['--end', '10']),
  ('v8.vtest.arenaW', {}, ['vidsift', B, f'{C}/vtest.avi'] + v8 + ['--end', '10']),
]
