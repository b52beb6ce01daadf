import { HttpProblem } from '../http/problem.js';

/** The 404 every operator route answers for a device id the store does not hold. */
export const unknownDevice = (deviceId: string): HttpProblem => new HttpProblem(404, 'device.unknown', 'No such device', { detail: `no device '${deviceId}'` });
