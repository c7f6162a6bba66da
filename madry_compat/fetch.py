"""Fetches one of Madry's released checkpoints (the archives MadryLab's fetch_model.py
downloads for mnist_challenge and cifar10_challenge), checks it and unpacks it atomically
where --madry_ckpt_dir and --blackbox_source=madry_ckpt look by default
(models/<name>, Madry's own layout).

  python -m madry_compat.fetch mnist adv_trained            # -> models/adv_trained
  python -m madry_compat.fetch cifar10 natural --dir=models  # -> models/natural

Shows a progress bar on stderr, records the archive's SHA-256 (and where it came from) in
<folder>/fetched.json, and refuses a partial or corrupt archive with one line (exit 2)
leaving nothing behind. --url fetches the same archive from elsewhere (a mirror).
"""

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile

from run_support.atomic_io import write_json_atomic
from run_support.errors import UserError
from run_support.run_files import MADRY_STATE_FILE

# fetch_model.py of MadryLab/mnist_challenge and MadryLab/cifar10_challenge.
ARCHIVES = {
    ('mnist', 'natural'): 'https://github.com/MadryLab/mnist_challenge_models/raw/master/natural.zip',
    ('mnist', 'adv_trained'): 'https://github.com/MadryLab/mnist_challenge_models/raw/master/adv_trained.zip',
    ('mnist', 'secret'): 'https://github.com/MadryLab/mnist_challenge_models/raw/master/secret.zip',
    ('cifar10', 'natural'): 'https://github.com/MadryProj/cifar10_challenge_models/raw/master/natural.zip',
    ('cifar10', 'adv_trained'): 'https://github.com/MadryProj/cifar10_challenge_models/raw/master/adv_trained.zip',
}
FETCHED_JSON = 'fetched.json'
TIMEOUT_SECONDS = 30  # per network operation: a dead connection ends the fetch, never hangs
_CHUNK = 1 << 16


def _progress(done, total, start):
  """One redrawn line: a bar (when the size is known), bytes and rate."""
  rate = done / max(time.monotonic() - start, 1e-6) / 1e6
  if total:
    filled = int(30 * done / total)
    bar = f'[{"#" * filled}{"." * (30 - filled)}] {100 * done / total:5.1f}% '
  else:
    bar = ''
  sys.stderr.write(f'\r{bar}{done / 1e6:.1f} MB, {rate:.1f} MB/s')
  sys.stderr.flush()


def download(url, path):
  """Streams `url` into `path`; returns (bytes, SHA-256). UserError for an unreachable
  host or an archive shorter than the server announced."""
  digest, done = hashlib.sha256(), 0
  try:
    with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response, open(path, 'wb') as out:
      total = int(response.headers.get('Content-Length') or 0)
      start = time.monotonic()
      while chunk := response.read(_CHUNK):
        out.write(chunk)
        digest.update(chunk)
        done += len(chunk)
        _progress(done, total, start)
  except (urllib.error.URLError, OSError) as e:
    reason = getattr(e, 'reason', None) or e
    raise UserError(f'cannot fetch {url}: {reason}') from None
  finally:
    sys.stderr.write('\n')
  if total and done != total:
    raise UserError(f'{url}: partial download ({done} of {total} bytes); try again')
  return done, digest.hexdigest()


def _checkpoint_folder(root):
  """The one folder under `root` holding a TF1 checkpoint (its state file and an .index)."""
  found = [folder for folder, _, files in os.walk(root)
           if MADRY_STATE_FILE in files and any(f.endswith('.index') for f in files)]
  if len(found) != 1:
    raise UserError(f'the archive holds {len(found)} TF1 checkpoints, expected one')
  return found[0]


def unpack(archive, scratch):
  """Checks the zip (every member's CRC, no path leaving the archive) and extracts it into
  `scratch`; returns the folder holding its checkpoint."""
  try:
    with zipfile.ZipFile(archive) as zipped:
      bad = zipped.testzip()
      if bad is not None:
        raise UserError(f'corrupt archive: {bad} fails its CRC check')
      for name in zipped.namelist():
        if os.path.isabs(name) or '..' in name.split('/'):
          raise UserError(f'the archive holds a path outside its folder: {name}')
      zipped.extractall(scratch)
  except (zipfile.BadZipFile, EOFError) as e:
    raise UserError(f'corrupt archive ({e}); try again') from None
  return _checkpoint_folder(scratch)


def fetch(dataset, name, models_dir='models', url=None):
  """Downloads, checks and unpacks one checkpoint into models_dir/name; returns that
  folder. An existing folder is kept when it holds the same archive (by SHA-256), refused
  otherwise; nothing is left behind on failure."""
  if (dataset, name) not in ARCHIVES:
    known = ', '.join(n for d, n in ARCHIVES if d == dataset) or 'none'
    raise UserError(f'Madry released no {name!r} checkpoint for {dataset} (known: {known})')
  url = url or ARCHIVES[(dataset, name)]
  target = os.path.join(models_dir, name)
  if os.path.exists(target) and not os.path.isfile(os.path.join(target, FETCHED_JSON)):
    raise UserError(f'{target} already exists and was not fetched here; move it away first')
  os.makedirs(models_dir, exist_ok=True)
  scratch = tempfile.mkdtemp(prefix=f'.fetch_{name}_', dir=models_dir)
  try:
    archive = os.path.join(scratch, 'archive.zip')
    size, sha256 = download(url, archive)
    if os.path.exists(target):
      previous = os.path.join(target, FETCHED_JSON)
      if os.path.isfile(previous) and json.load(open(previous)).get('sha256') == sha256:
        return target
      raise UserError(f'{target} already exists and holds something else; move it away first')
    folder = unpack(archive, os.path.join(scratch, 'unpacked'))
    write_json_atomic(os.path.join(folder, FETCHED_JSON),
                      {'dataset': dataset, 'name': name, 'url': url, 'bytes': size,
                       'sha256': sha256, 'fetched': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())})
    os.rename(folder, target)  # atomic: the folder appears whole or not at all
    return target
  finally:
    shutil.rmtree(scratch, ignore_errors=True)


def main(argv=None):
  parser = argparse.ArgumentParser(prog='python -m madry_compat.fetch', description=__doc__.split('\n\n')[0])
  parser.add_argument('dataset', choices=sorted({d for d, _ in ARCHIVES}))
  parser.add_argument('name', choices=sorted({n for _, n in ARCHIVES}))
  parser.add_argument('--dir', default='models', help='where <name>/ goes (default models, '
                      'where --madry_ckpt_dir looks)')
  parser.add_argument('--url', default=None, help='fetch the archive from here instead')
  args = parser.parse_args(argv)
  try:
    target = fetch(args.dataset, args.name, args.dir, args.url)
  except UserError as e:
    sys.stderr.write(f'fetch: error: {e}\n')
    return 2
  print(f'{target}: {json.load(open(os.path.join(target, FETCHED_JSON)))["sha256"]}')
  return 0


if __name__ == '__main__':
  sys.exit(main())
