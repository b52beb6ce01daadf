// acme/sensor: a temperature sensor simulator. Every request to `<route>/reading` takes one reading
// (a random walk around the configured set point), publishes it on `plant/temperature` for
// whichever app on this device is granted to subscribe, and answers it as JSON.
import { log } from 'berth:host/log@0.1.0';
import { get as configGet } from 'berth:host/config@0.1.0';
import { publish } from 'berth:host/messaging@0.1.0';
import { getRandomBytes } from 'wasi:random/random@0.2.12';
import { now } from 'wasi:clocks/wall-clock@0.2.12';
import { describe, respondJson } from './respond.js';

const encoder = new TextEncoder();
let celsius;
let taken = 0;

function setPoint() {
  try {
    const v = Number(configGet('set-point'));
    return Number.isFinite(v) ? v : 21;
  } catch {
    return 21;
  }
}

export const incomingHandler = {
  handle(request, responseOut) {
    if (!(request.pathWithQuery() ?? '').endsWith('/reading')) {
      respondJson(responseOut, 200, { app: 'acme/sensor', status: 'ready', taken });
      return;
    }
    celsius ??= setPoint();
    const [r] = getRandomBytes(1n);
    celsius = Math.round((celsius + (r - 127.5) / 255) * 100) / 100;
    taken += 1;
    const reading = { sensor: 'acme/sensor', celsius, takenAt: Number(now().seconds), seq: taken };
    let published = 'ok';
    try {
      publish('plant/temperature', encoder.encode(JSON.stringify(reading)));
    } catch (err) {
      published = describe(err);
    }
    log('info', `reading ${taken}: ${celsius} °C`, []);
    respondJson(responseOut, 200, { ...reading, published });
  },
};
