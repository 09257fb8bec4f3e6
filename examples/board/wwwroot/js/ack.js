// A small client for ack's transact module: it sends the TransactionRequest
// JSON that HandStack's browser library sends to
// POST /transact/api/transaction/execute and unpacks the answer.
// Plain ES module, no dependencies.

const endpoint = '/transact/api/transaction/execute';

// TransactionError is a transaction the server answered with acknowledge 0.
export class TransactionError extends Error {
    constructor(message, response) {
        super(message || 'the transaction failed');
        this.name = 'TransactionError';
        this.response = response;
    }
}

// pad left-pads (or cuts) a value to n characters, as HandStack's request IDs do.
function pad(value, n, fill = '0') {
    return String(value ?? '').padStart(n, fill).slice(-n);
}

// requestID builds HandStack's 36-character request ID: install type, environment,
// app, project, transaction, service, machine type, a random token and the time.
function requestID(env, app, project, transaction, service) {
    const token = Math.random().toString(36).slice(2, 8).toUpperCase().padEnd(6, '0');
    const now = new Date();
    const time = pad(now.getHours(), 2) + pad(now.getMinutes(), 2) + pad(now.getSeconds(), 2);
    return ('L' + env + pad(app, 8) + pad(project, 3) + pad(transaction, 6) + pad(service, 4) + 'W' + token + time).toUpperCase();
}

// rowOf turns {Title: 'x'} into HandStack's [{id: 'Title', value: 'x'}].
function rowOf(values) {
    return Object.entries(values ?? {}).map(([id, value]) => ({ id, value: value ?? '' }));
}

/**
 * transact runs one service of a transaction contract.
 *
 * @param {object} call
 * @param {string} call.app         ApplicationID (system.programID), e.g. 'EXA'
 * @param {string} call.project     ProjectID (transaction.businessID), e.g. 'BOD'
 * @param {string} call.transaction TransactionID, e.g. 'BOD010'
 * @param {string} call.service     ServiceID (transaction.functionID), e.g. 'LD01'
 * @param {string} [call.screen]    screen ID checked against AccessScreenID (default: transaction)
 * @param {object} [call.input]     the one Row input, as {field: value}
 * @param {string[]} [call.outputs] output types, for dataMapInterface (e.g. ['Grid'])
 * @param {string} [call.environment] 'D' (development) by default
 * @returns {Promise<any[]>} the outputs in contract order (a Form is an object, a Grid an array)
 */
export async function transact({ app, project, transaction, service, screen, input = {}, outputs = [], environment = 'D' }) {
    const id = requestID(environment, app, project, transaction, service);
    const body = {
        accessToken: '',
        action: 'SYN',
        kind: 'BIZ',
        clientTag: 'ACK|WebClient|' + location.hostname + '|' + environment,
        loadOptions: { encryptionType: 'P', encryptionKey: 'G', platform: navigator.platform || 'browser', programID: '' },
        requestID: id,
        version: '001',
        environment,
        system: {
            programID: app,
            moduleID: location.pathname.split('/')[1] || 'wwwroot',
            version: '1.0.0',
            routes: [{ systemID: 'HANDSTACK', requestTick: Date.now() }],
            localeID: navigator.language || 'en-US',
            hostName: location.host,
            pathName: location.pathname,
            deviceID: '',
        },
        interface: {
            devicePlatform: 'browser',
            interfaceID: 'WEB',
            sourceIP: '',
            sourcePort: 0,
            sourceMAC: '',
            connectionType: navigator.connection?.effectiveType ?? '',
            timeout: 180000,
        },
        transaction: {
            globalID: id,
            businessID: project,
            transactionID: transaction,
            functionID: service,
            commandType: 'D',
            simulationType: 'P',
            terminalGroupID: '',
            operatorID: '',
            screenID: screen ?? transaction,
            startTraceID: '',
            dataFormat: 'J',
            compressionYN: 'N',
        },
        payLoad: {
            property: {},
            dataMapInterface: 'Row|' + outputs.join(','),
            dataMapCount: [1],
            dataMapSet: [rowOf(input)],
            dataMapSetRaw: [],
        },
    };

    let response;
    try {
        response = await fetch(endpoint, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'HandStack ServiceClient' },
            body: JSON.stringify(body),
        });
    } catch (err) {
        throw new TransactionError('the server cannot be reached: ' + err.message);
    }
    const text = await response.text();
    let answer;
    try {
        answer = JSON.parse(text);
    } catch {
        throw new TransactionError(`the server answered ${response.status} ${response.statusText}`);
    }
    if (!response.ok) {
        throw new TransactionError(answer.message || `the server answered ${response.status}`, answer);
    }
    if (answer.acknowledge !== 1) {
        throw new TransactionError(answer.exceptionText, answer);
    }
    return (answer.result?.dataSet ?? []).map((item) => item.value);
}
