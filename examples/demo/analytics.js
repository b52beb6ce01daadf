// globex/analytics: subscribes to `plant/temperature` on its first request, and on every
// request summarizes the readings received so far. It also shows what its identity grant
// allows: a token for the `historian` audience, and a refusal for any other.
import { log } from 'berth:host/log@0.1.0';
import { subscribe, receive } from 'berth:host/messaging@0.1.0';
import { getToken } from 'berth:host/identity@0.1.0';
import { describe, respondJson } from './respond.js';

const decoder = new TextDecoder();
const readings = [];
let subscribed = false;

function attempt(f) {
  try {
    return { ok: f() };
  } catch (err) {
    return { refused: describe(err) };
  }
}

export const incomingHandler = {
  handle(request, responseOut) {
    if (!subscribed) {
      subscribe('plant/temperature');
      subscribed = true;
      log('info', 'subscribed to plant/temperature', []);
    }
    for (const m of receive(256)) readings.push(JSON.parse(decoder.decode(m.payload)).celsius);
    const n = readings.length;
    const summary =
      n === 0
        ? { readings: 0 }
        : { readings: n, min: Math.min(...readings), max: Math.max(...readings), mean: Math.round((readings.reduce((a, b) => a + b, 0) / n) * 100) / 100 };
    const historian = attempt(() => getToken('historian'));
    const payroll = attempt(() => getToken('payroll'));
    respondJson(responseOut, 200, {
      ...summary,
      historianToken: historian.ok ?? null,
      historianRefused: historian.refused ?? null,
      payrollToken: payroll.ok ?? null,
      payrollRefused: payroll.refused ?? null,
    });
  },
};
