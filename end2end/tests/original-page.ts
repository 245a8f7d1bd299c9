// A call page written the way the original demo's was (SEED-PROTOCOL.md): one WebSocket at
// /webrtc/NAME, confirm() to answer, the caller offers after call_back "1", both trickle
// `_ice`, and it knows nothing of duet's additions. A small server of its own on loopback
// serves it as /NAME.html?server=HOST:PORT, the duet server it talks to.
import { createServer, type Server } from 'node:http';
import { ORIGINAL_PORT, ORIGINAL_URL } from '../address';

const ORIGINAL_PAGE = `<!doctype html>
<html><body>
<input id="toUser"><button id="call">call</button><button id="hangup">hang up</button>
<video id="localVideo" autoplay muted playsinline></video>
<video id="remoteVideo" autoplay playsinline></video>
<script>
const me = decodeURIComponent(location.pathname.split('/').pop().replace(/\\.html$/, ''));
const server = new URLSearchParams(location.search).get('server');
const ws = new WebSocket('ws://' + server + '/webrtc/' + encodeURIComponent(me));
let pc, local, peer;
const send = (m) => ws.send(JSON.stringify(Object.assign({ fromUser: me, toUser: peer }, m)));
async function openMedia() {
  local = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
  document.getElementById('localVideo').srcObject = local;
  pc = new RTCPeerConnection();
  local.getTracks().forEach((t) => pc.addTrack(t, local));
  pc.onicecandidate = (e) => e.candidate && send({ type: '_ice', iceCandidate: e.candidate });
  pc.ontrack = (e) => { document.getElementById('remoteVideo').srcObject = e.streams[0]; };
}
async function handle(m) {
  switch (m.type) {
    case 'call_start':
      peer = m.fromUser;
      send({ type: 'call_back', msg: confirm(m.fromUser + ' is calling') ? '1' : '0' });
      break;
    case 'call_back':
      if (m.msg !== '1') { document.title = 'refused: ' + m.msg; break; }
      await openMedia();
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      send(Object.assign({ type: 'offer' }, pc.localDescription.toJSON()));
      break;
    case 'offer':
      await openMedia();
      await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      send({ type: 'answer', sdp: answer.sdp });
      break;
    case 'answer': await pc.setRemoteDescription({ type: 'answer', sdp: m.sdp }); break;
    case '_ice': await pc.addIceCandidate(m.iceCandidate); break;
    case 'hangup': document.title = 'hung up: ' + (m.msg || ''); pc && pc.close(); break;
  }
}
// One frame at a time, so an _ice never overtakes the offer it belongs to.
let queue = Promise.resolve();
ws.onmessage = (ev) => { queue = queue.then(() => handle(JSON.parse(ev.data))).catch(console.error); };
document.getElementById('call').onclick = () => {
  peer = document.getElementById('toUser').value;
  send({ type: 'call_start', msg: '1' });
};
document.getElementById('hangup').onclick = () => send({ type: 'hangup' });
</script>
</body></html>`;

let served: Promise<string> | undefined;

/**
 * The base URL of a loopback server that serves the original page, started on first use,
 * on the port the duet server under test lists in its allowed origins.
 */
export function originalPageServer(): Promise<string> {
  served ??= new Promise((resolve, reject) => {
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(ORIGINAL_PAGE);
    });
    server.unref(); // it must not keep the test run alive
    server.on('error', reject);
    server.listen(ORIGINAL_PORT, '127.0.0.1', () => resolve(ORIGINAL_URL));
  });
  return served;
}
