/**
 * @license
 * Copyright 2024 Boxo pte. ltd.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 * http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */
import { SDK_MESSAGE_TYPE, SDK_VERSION } from '../constants';
/**
 * Create a message to send to miniapp
 */
export function createMiniappMessage(handler, params, requestId) {
    return {
        type: SDK_MESSAGE_TYPE,
        handler,
        params,
        sdkVersion: SDK_VERSION,
        request_id: requestId,
    };
}
/**
 * Create a response to send back to miniapp
 *
 * Note: js-sdk expects the response in a specific format:
 * - For login: data should contain { token, refresh_token } (not wrapped in payload)
 * - request_id should be inside the data field
 */
export function createHostResponse(handler, data, requestId) {
    return {
        type: 'appboxo-host-response',
        handler,
        data: {
            ...data,
            request_id: requestId,
        },
        request_id: requestId,
    };
}
/**
 * Create error response
 */
export function createErrorResponse(handler, error, requestId) {
    return createHostResponse(handler, {
        error_type: 'client_error',
        error_data: {
            error_code: 500,
            error_reason: error?.message || 'Unknown error',
            error_description: error?.toString(),
        },
        request_id: requestId,
    }, requestId);
}
//# sourceMappingURL=messageHelpers.js.map