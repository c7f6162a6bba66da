"""madry_compat.fetch against a local HTTP server on 127.0.0.1 serving a stand-in for
Madry's archive, written by our own TF1 checkpoint writer (no internet needed)."""

import hashlib
import http.server
import io
import json
import os
import threading
import zipfile

import pytest

from madry_compat import build_model
from madry_compat.checkpoint import save_madry_checkpoint
from madry_compat.fetch import fetch
from madry_compat.fetch import main
from run_support.errors import UserError


class _Server:
  """Serves `payloads` {path: (bytes, announced length or None)} on 127.0.0.1."""

  def __init__(self, payloads):
    class Handler(http.server.BaseHTTPRequestHandler):
      def do_GET(self):  # pylint: disable=invalid-name
        if self.path not in payloads:
          self.send_error(404)
          return
        body, length = payloads[self.path]
        self.send_response(200)
        self.send_header('Content-Length', str(length or len(body)))
        self.end_headers()
        self.wfile.write(body)

      def log_message(self, *args):
        pass

    self.httpd = http.server.HTTPServer(('127.0.0.1', 0), Handler)
    self.url = f'http://127.0.0.1:{self.httpd.server_port}'
    threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

  def close(self):
    self.httpd.shutdown()
    self.httpd.server_close()


@pytest.fixture(scope='module')
def archive(tmp_path_factory):
  """A zip laid out as Madry's (models/adv_trained/checkpoint, checkpoint-99900.*)."""
  folder = tmp_path_factory.mktemp('madry') / 'models' / 'adv_trained'
  save_madry_checkpoint(build_model('mnist'), str(folder / 'checkpoint-99900'), global_step=99900)
  buffer = io.BytesIO()
  with zipfile.ZipFile(buffer, 'w') as zipped:
    for name in sorted(os.listdir(folder)):
      zipped.write(folder / name, f'models/adv_trained/{name}')
  return buffer.getvalue()


@pytest.fixture()
def server(archive):
  corrupt = bytearray(archive)
  corrupt[len(corrupt) // 3] ^= 0xFF  # one flipped byte inside a member
  serving = _Server({'/good.zip': (archive, None), '/partial.zip': (archive[:1000], len(archive)),
                     '/corrupt.zip': (bytes(corrupt), None), '/notzip.zip': (b'<html>', None)})
  yield serving
  serving.close()


def test_fetch_unpacks_where_eval_looks_and_records_the_sha256(server, archive, tmp_path, capsys):
  from evaluation.model_io import load_model_folder  # pylint: disable=g-import-not-at-top
  assert main(['mnist', 'adv_trained', f'--dir={tmp_path}', f'--url={server.url}/good.zip']) == 0
  target = tmp_path / 'adv_trained'
  record = json.load(open(target / 'fetched.json'))
  assert record['sha256'] == hashlib.sha256(archive).hexdigest() == capsys.readouterr().out.split()[-1]
  assert record['bytes'] == len(archive) and record['dataset'] == 'mnist'
  assert sorted(os.listdir(tmp_path)) == ['adv_trained']  # no scratch left behind
  loaded = load_model_folder(str(target), 'mnist', '--madry_ckpt_dir')
  assert loaded.state()['global_step'] == 99900
  # Fetching the same archive again keeps the folder; another archive is refused.
  assert fetch('mnist', 'adv_trained', str(tmp_path), f'{server.url}/good.zip') == str(target)


@pytest.mark.parametrize('path, message', [('/partial.zip', 'partial download'),
                                           ('/corrupt.zip', 'corrupt archive'),
                                           ('/notzip.zip', 'corrupt archive'),
                                           ('/missing.zip', 'cannot fetch')])
def test_a_bad_archive_is_one_line_and_leaves_nothing(server, tmp_path, capsys, path, message):
  assert main(['mnist', 'natural', f'--dir={tmp_path}', f'--url={server.url}{path}']) == 2
  error = capsys.readouterr().err.strip().splitlines()[-1]
  assert error.startswith('fetch: error: ') and message in error
  assert os.listdir(tmp_path) == []


def test_unknown_checkpoints_and_occupied_folders_are_refused(tmp_path):
  with pytest.raises(UserError, match="no 'secret' checkpoint for cifar10"):
    fetch('cifar10', 'secret', str(tmp_path))
  (tmp_path / 'natural').mkdir()
  with pytest.raises(UserError, match='was not fetched here'):
    fetch('mnist', 'natural', str(tmp_path), 'http://127.0.0.1:9/none.zip')
