// Shared by the player pages: which stream to play, from ?url= or ?app=&stream=.
export function params() {
  return new URLSearchParams(location.search);
}

/** The stream URL for a format, built from the page's host unless ?url= is given. */
export function streamUrlFor(kind) {
  const p = params();
  if (p.get('url')) return p.get('url');
  const app = p.get('app') || 'live';
  const stream = p.get('stream') || 'livestream';
  const vhost = p.get('vhost') ? `?vhost=${encodeURIComponent(p.get('vhost'))}` : '';
  const host = location.host;
  if (kind === 'ws-flv') return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${host}/${app}/${stream}.flv${vhost}`;
  if (kind === 'flv') return `${location.protocol}//${host}/${app}/${stream}.flv${vhost}`;
  if (kind === 'hls') return `${location.protocol}//${host}/${app}/${stream}.m3u8${vhost}`;
  return '';
}

export function setup(url, start) {
  const input = document.getElementById('url');
  input.value = url;
  document.getElementById('play').onclick = () => start(input.value);
  start(url);
}

/** Shows the video clock and the decoded frames, so an operator sees it moves. */
export function watch(video) {
  const info = document.getElementById('info');
  setInterval(() => {
    const q = video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality() : null;
    info.textContent = `time ${video.currentTime.toFixed(1)} s · ${video.videoWidth}×${video.videoHeight}` + (q ? ` · frames ${q.totalVideoFrames} (dropped ${q.droppedVideoFrames})` : '');
  }, 500);
}
