/**
 * Login Handler
 * Handles authentication events from miniapp
 */
import { EVENT_TYPES } from '../constants';
import { createHostResponse } from '../utils/messageHelpers';
import { generateAuthCode, exchangeAuthCodeForTokens } from '../utils/authHelper';
/**
 * Handle login event.
 *
 * Supports three auth flows (priority order):
 * 1. Boxo Connect Direct: use pre-set tokens
 * 2. Callback: get tokens via onGetAuthTokens
 * 3. OAuth: generate authCode, exchange for tokens
 */
export async function handleLoginEvent(params, requestId, config) {
    try {
        config.log('Handling login event', params);
        // Trigger onAuth lifecycle hook (similar to Android/iOS/Flutter SDK)
        // Host app can request tokens in this hook and call setAuthTokens()
        const onAuthCallback = config.lifecycleHandlers.get('auth');
        if (onAuthCallback) {
            config.log('Triggering onAuth lifecycle hook');
            // onAuth doesn't need success/data params, use any for compatibility
            await Promise.resolve(onAuthCallback());
        }
        let token;
        let refresh_token;
        // Host App should call Boxo Dashboard connect endpoint to get miniapp tokens before login()
        // or request tokens in onAuth hook and call setAuthTokens()
        // Use getter function to get fresh tokens after onAuth hook may have set them
        const authTokens = config.getAuthTokens();
        if (authTokens) {
            config.log('Using pre-set auth tokens (Boxo Connect Direct)', authTokens);
            token = authTokens.token;
            refresh_token = authTokens.refresh_token;
        }
        else if (config.onGetAuthTokens) {
            // Backend calls Boxo Dashboard connect endpoint to request miniapp tokens
            const tokens = await config.onGetAuthTokens();
            token = tokens.token;
            refresh_token = tokens.refresh_token;
        }
        else {
            // Generate auth code
            const authHelperConfig = {
                config: config.config,
                authCode: config.authCode,
                onGetAuthCode: config.onGetAuthCode,
                log: config.log
            };
            const authCode = await generateAuthCode(authHelperConfig);
            // Exchange auth code for tokens
            const tokens = await exchangeAuthCodeForTokens(authCode, authHelperConfig);
            token = tokens.token;
            refresh_token = tokens.refresh_token;
        }
        // Return token to miniapp
        const response = createHostResponse(EVENT_TYPES.LOGIN, {
            payload: {
                token,
                refresh_token
            }
        }, requestId);
        config.log('Login response structure', JSON.stringify(response, null, 2));
        config.sendResponseToMiniapp(response);
        config.log('Login successful', { token, refresh_token });
        // Call login complete callback if registered
        const callback = config.lifecycleHandlers.get('login-complete');
        if (callback)
            callback(true, { token, refresh_token });
    }
    catch (error) {
        config.log('Login failed', error);
        config.sendErrorResponse('AppBoxoWebAppLogin', error, requestId);
    }
}
//# sourceMappingURL=loginHandler.js.map