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
/**
 * Default SDK configuration
 */
export const DEFAULT_CONFIG = {
    baseUrl: 'https://dashboard.boxo.io/api/v1',
    sandboxMode: false,
    debug: false,
};
/**
 * SDK event types
 */
export const EVENT_TYPES = {
    LOGIN: 'AppBoxoWebAppLogin',
    PAYMENT: 'AppBoxoWebAppPay',
    INIT_DATA: 'AppBoxoWebAppGetInitData',
    CUSTOM: 'AppBoxoWebAppCustomEvent',
};
/**
 * SDK message type identifier
 */
export const SDK_MESSAGE_TYPE = 'appboxo-js-sdk';
/**
 * SDK version
 */
export const SDK_VERSION = '1.0.0';
/**
 * Error codes
 */
export const ERROR_CODES = {
    INVALID_ORIGIN: 400,
    MISSING_IFRAME: 400,
    AUTHENTICATION_FAILED: 401,
    PAYMENT_FAILED: 402,
    UNSUPPORTED_EVENT: 404,
    UNKNOWN: 500,
};
//# sourceMappingURL=constants.js.map