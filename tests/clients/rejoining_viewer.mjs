// A viewer on the Node.js socket.io-client (the library browsers and apps use), coming back to a
// room again and again: each visit connects, joins (with the last seq it saw; every fourth visit
// for a snapshot), listens, and hangs up. Prints one JSON line per visit: what it heard, in order,
// the join's ack as ["ack", ack].
//
// node rejoining_viewer.mjs URL TOKEN EPISODE_ID VISITS LISTEN_MS TRANSPORT
import { io } from "socket.io-client";

const [url, token, episodeId, visits, listenMs, transport] = process.argv.slice(2);
const PASSING_STATE = new Set(["presence:count", "chat:reactions"]); // carry the room's seq, are not logged

function visit(request) {
  return new Promise((resolve, reject) => {
    const heard = [];
    const socket = io(url, { auth: { token }, transports: [transport], reconnection: false, timeout: 10000 });
    socket.onAny((event, data) => heard.push([event, data]));
    socket.on("connect_error", reject);
    socket.on("connect", () => {
      socket.timeout(10000).emit("join", request, (error, ack) => {
        if (error) return reject(error);
        heard.push(["ack", ack]);
        setTimeout(() => {
          socket.disconnect();
          resolve(heard);
        }, Number(listenMs));
      });
    });
  });
}

let lastSeq = null;
for (let n = 0; n < Number(visits); n++) {
  const snapshot = lastSeq === null || n % 4 === 3;
  const heard = await visit(snapshot ? { episode_id: episodeId } : { episode_id: episodeId, last_seq: lastSeq });
  const ack = heard.find(([kind]) => kind === "ack")[1];
  const logged = heard.filter(([event, data]) => event !== "ack" && !PASSING_STATE.has(event)).map(([, data]) => data.seq);
  lastSeq = logged.length ? logged[logged.length - 1] : ack.seq;
  process.stdout.write(JSON.stringify(heard) + "\n");
}
process.exit(0);
