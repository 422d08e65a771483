/**
 * SRS's FFmpeg argv for ingest and transcode (SrsFFMPEG::start): order, copy,
 * vn/an, option blocks, even sizes, iformat only for RTMP input, aparams
 * with audio copy; SRS's engine checks; output variables and the stream an
 * output URL names; a pipe on the supervisor (listed, then forgotten).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { TranscodeEngineConfig } from '../../src/config/vhost-config.js';
import { engineArgv, engineProblem } from '../../src/ffmpeg/engine-argv.js';
import { expandOutput, outputStream } from '../../src/ffmpeg/engine-output.js';
import { fitEngine } from '../../src/ffmpeg/ffmpeg-binary.js';
import { FfmpegPipe } from '../../src/ffmpeg/ffmpeg-pipe.js';
import { ProcessRegistry } from '../../src/ffmpeg/child-supervisor.js';
import { silentLogger } from '../../src/log/logger.js';
import { waitFor } from '../helpers/wait.js';

function engine(o: Partial<TranscodeEngineConfig> = {}): TranscodeEngineConfig {
  return {
    name: 'ld', enabled: true, perfile: [], iformat: 'flv', vfilter: [], vcodec: 'libx264', vbitrate: 300, vfps: 25, vwidth: 641, vheight: 361,
    vthreads: 2, vprofile: 'main', vpreset: 'veryfast', vparams: [], acodec: 'aac', abitrate: 64, asampleRate: 44100, achannels: 2, aparams: [],
    oformat: 'flv', output: 'rtmp://127.0.0.1:1935/live/x_ld', ...o,
  };
}

describe('engineArgv', () => {
  test('a transcode in SRS order, sizes made even', () => {
    const argv = engineArgv({ ffmpeg: 'ffmpeg', iparams: ['-loglevel', 'info'], input: 'rtmp://127.0.0.1:1935/live/x?vhost=v', engine: engine({ perfile: [{ name: 're', args: [] }], vfilter: [{ name: 'vf', args: ['hflip'] }], vparams: [{ name: 'g', args: ['50'] }], aparams: [{ name: 'profile:a', args: ['aac_low'] }] }), output: 'rtmp://o/live/x_ld' });
    assert.deepEqual(argv.join(' '), 'ffmpeg -loglevel info -re -f flv -i rtmp://127.0.0.1:1935/live/x?vhost=v -vf hflip -vcodec libx264 -b:v 300000 -r 25 -s 640x360 -aspect 640:360 -threads 2 -profile:v main -preset veryfast -g 50 -acodec aac -b:a 64000 -ar 44100 -ac 2 -profile:a aac_low -f flv -y rtmp://o/live/x_ld');
  });
  test('copy (no engine), no -f before a non-RTMP input', () => {
    assert.equal(engineArgv({ ffmpeg: 'ff', iparams: ['-re'], input: './a.mp4', engine: null, output: 'rtmp://o/live/a' }).join(' '), 'ff -re -i ./a.mp4 -vcodec copy -acodec copy -f flv -y rtmp://o/live/a');
    assert.equal(engineArgv({ ffmpeg: 'ff', iparams: [], input: 'udp://1.2.3.4:5', engine: engine({ vcodec: 'copy', acodec: 'copy' }), output: 'o' }).join(' '), 'ff -i udp://1.2.3.4:5 -vcodec copy -acodec copy -f flv -y o');
  });
  test('vn / an; with acodec copy only aac_adtstoasc of aparams is kept', () => {
    assert.equal(engineArgv({ ffmpeg: 'ff', iparams: [], input: 'rtmp://i/a/b', engine: engine({ vcodec: 'vn', acodec: 'copy', aparams: [{ name: 'bsf:a', args: ['aac_adtstoasc'] }, { name: 'ar', args: ['8000'] }] }), output: 'o' }).join(' '), 'ff -f flv -i rtmp://i/a/b -vn -acodec copy -bsf:a aac_adtstoasc -f flv -y o');
    assert.match(engineArgv({ ffmpeg: 'ff', iparams: [], input: 'rtmp://i/a/b', engine: engine({ acodec: 'an', oformat: 'off' }), output: 'o' }).join(' '), / -an -y o$/);
  });
  test("SRS's checks", () => {
    assert.match(engineProblem(engine({ vcodec: 'vn', acodec: 'an' }))!, /both disabled/);
    assert.match(engineProblem(engine({ vprofile: '' }))!, /vprofile/);
    assert.match(engineProblem(engine({ achannels: 6 }))!, /achannels/);
    assert.match(engineProblem(engine({ output: '' }))!, /output/);
    assert.equal(engineProblem(engine({ vcodec: 'copy', vprofile: '' })), null);
  });
  test('libfdk_aac becomes aac when the binary lacks it', () => {
    assert.equal(fitEngine(engine({ acodec: 'libfdk_aac' }), new Set(['libx264', 'aac']), silentLogger()).acodec, 'aac');
    assert.equal(fitEngine(engine({ acodec: 'libfdk_aac' }), new Set(['libx264', 'libfdk_aac']), silentLogger()).acodec, 'libfdk_aac');
  });
});

describe('engine output', () => {
  test('variables replaced once; unknown ones stay', () => {
    const d = new Date(2026, 0, 2, 3, 4, 5, 6);
    assert.equal(expandOutput('rtmp://127.0.0.1:[port]/[app]?vhost=[vhost]/[stream]_[engine]-[2006][01][02][15][04][05][999][x]', { port: '1935', app: 'live', vhost: 'v', stream: '[app]', engine: 'ld' }, d), 'rtmp://127.0.0.1:1935/live?vhost=v/[app]_ld-20260102030405006[x]');
  });
  test('the stream an output names, in both of SRS forms', () => {
    assert.deepEqual(outputStream('rtmp://127.0.0.1:1935/live?vhost=v.com/cam_ld'), { vhost: 'v.com', app: 'live', stream: 'cam_ld' });
    assert.deepEqual(outputStream('rtmp://127.0.0.1:1935/live/cam_ld?vhost=v.com'), { vhost: 'v.com', app: 'live', stream: 'cam_ld' });
    assert.deepEqual(outputStream('rtmp://127.0.0.1/live/cam'), { vhost: '127.0.0.1', app: 'live', stream: 'cam' });
    assert.equal(outputStream('./out.flv'), null);
  });
});

test('an FFmpeg pipe runs on the supervisor: listed while it runs, forgotten once closed', async () => {
  const processes = new ProcessRegistry();
  const out: Buffer[] = [];
  let exited = false;
  // `cat` stands in for FFmpeg: bytes in, the same bytes out.
  const pipe = new FfmpegPipe({ processes, logFile: null, log: silentLogger(), kind: 'aac-to-opus', label: '/live/x', ffmpegPath: 'cat', args: [], onData: (d) => out.push(d), onExit: () => (exited = true) });
  pipe.write(Buffer.from('hello'));
  assert.ok(await waitFor(() => Buffer.concat(out).toString() === 'hello', 5000));
  assert.deepEqual(processes.list().map((p) => [p.kind, p.label, p.state]), [['aac-to-opus', '/live/x', 'running']]);
  pipe.close();
  assert.ok(await waitFor(() => processes.list().length === 0, 5000));
  assert.equal(exited, false, 'a close is not reported as an exit');
});
