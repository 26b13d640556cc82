/**
 * Authentication Helper
 * Handles auth code generation and token exchange
 */
import { NetworkService } from './networkService';
/**
 * Generate auth code from Desktop App session
 *
 * Priority order:
 * 1. Explicitly set auth code
 * 2. Callback to get from backend
 * 3. Mock auth code (fallback for testing)
 */
export async function generateAuthCode(config) {
    // Priority 1: Explicitly set auth code
    if (config.authCode) {
        config.log('Using explicitly set auth_code', config.authCode);
        return config.authCode;
    }
    // Priority 2: Callback to get auth_code from Desktop App backend
    if (config.onGetAuthCode) {
        try {
            const authCode = await config.onGetAuthCode();
            config.log('Received auth_code from Desktop App backend', authCode);
            return authCode;
        }
        catch (error) {
            config.log('Failed to get auth_code from backend', error);
            throw error;
        }
    }
    // Priority 3: Fallback to generated mock auth code for testing
    const authCode = `mock_auth_code_${Date.now()}_${Math.random().toString(36).substring(7)}`;
    config.log('Generated mock auth code (fallback for testing)', authCode);
    return authCode;
}
/**
 * Exchange authorization code for authentication tokens
 * Implements OAuth 2.0 authorization code flow
 */
export async function exchangeAuthCodeForTokens(authCode, config) {
    try {
        config.log('Exchanging auth_code for tokens', authCode);
        // Create network service instance
        const networkService = new NetworkService({
            baseUrl: config.config.baseUrl || 'https://dashboard.boxo.io/api/v1',
            log: config.log
        });
        // Call Boxo Platform API to exchange auth_code for auth_token
        const requestPayload = {
            auth_code: authCode,
            client_id: config.config.clientId,
            app_id: config.config.appId
        };
        // Add user_reference if provided (matches Android SDK behavior)
        if (config.config.userId) {
            requestPayload.user_reference = config.config.userId;
        }
        const response = await networkService.post('/authorize/', requestPayload);
        if (!networkService.isSuccess(response)) {
            config.log('Boxo Platform request failed', {
                status: response.status,
                data: response.data
            });
            throw new Error('Authentication failed');
        }
        const data = response.data;
        config.log('Boxo Platform response', data);
        return {
            token: data.auth_token || data.token,
            refresh_token: data.refresh_token
        };
    }
    catch (error) {
        config.log('Failed to exchange auth code for tokens', error);
        // If the error is due to invalid JSON (HTML response), log it separately
        if (error instanceof SyntaxError) {
            config.log('Boxo Platform API endpoint may not be configured yet. Response is HTML instead of JSON.');
        }
        throw new Error('Authentication failed');
    }
}
//# sourceMappingURL=authHelper.js.map