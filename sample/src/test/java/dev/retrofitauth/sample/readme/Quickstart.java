package dev.retrofitauth.sample.readme;

// readme:begin quickstart
import dev.retrofitauth.AuthCallAdapterFactory;
import dev.retrofitauth.NoAuth;
import dev.retrofitauth.NoRetry;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.RefreshRejectedException;
import dev.retrofitauth.TokenStore;
import dev.retrofitauth.Tokens;
import java.io.IOException;
import okhttp3.OkHttpClient;
import okhttp3.ResponseBody;
import retrofit2.Call;
import retrofit2.Response;
import retrofit2.Retrofit;
import retrofit2.converter.moshi.MoshiConverterFactory;
import retrofit2.http.Body;
import retrofit2.http.Field;
import retrofit2.http.FormUrlEncoded;
import retrofit2.http.GET;
import retrofit2.http.POST;

public class Quickstart {
  interface AuthService {                         // the token endpoint
    @POST("login") Call<TokenJson> login(@Body LoginRequest request);
    @FormUrlEncoded @POST("oauth/token")
    Call<TokenJson> refresh(@Field("grant_type") String grantType, @Field("refresh_token") String refreshToken);
  }

  interface Api {
    @GET("me") Call<ResponseBody> me();                   // token attached; 401 -> one shared refresh -> one retry
    @NoRetry @GET("poll") Call<ResponseBody> poll();      // token attached; 401 returned as it came
    @NoAuth @GET("status") Call<ResponseBody> status();   // no token; a 401 passes through
  }

  static class LoginRequest {
    final String username;
    final String password;

    LoginRequest(String username, String password) {
      this.username = username;
      this.password = password;
    }
  }

  public static void main(String[] args) throws IOException {
    // The token endpoint gets a second, plain Retrofit: the API's Retrofit (below) is built with
    // the manager, and the manager needs the token endpoint first.
    AuthService authService = new Retrofit.Builder()
        .baseUrl("https://auth.example.com/")
        .addConverterFactory(MoshiConverterFactory.create())
        .build()
        .create(AuthService.class);

    RefreshManager auth = RefreshManager.builder()
        .tokenStore(TokenStore.inMemory())            // or TokenStore.file(...)
        .refreshApi(current -> {                      // your code, or OAuth2RefreshApi
          Response<TokenJson> r = authService.refresh("refresh_token", current.refreshToken()).execute();
          if (r.code() == 400 || r.code() == 401) throw new RefreshRejectedException("refresh token revoked");
          if (!r.isSuccessful()) throw new IOException("refresh failed: HTTP " + r.code());
          return Tokens.of(r.body().accessToken, r.body().refreshToken);
        })
        .build();

    OkHttpClient client = new OkHttpClient.Builder()
        .addInterceptor(auth.interceptor())           // attaches "Authorization: Bearer ..."
        .build();

    Api api = new Retrofit.Builder()
        .baseUrl("https://api.example.com/")
        .client(client)
        .addCallAdapterFactory(AuthCallAdapterFactory.create(auth))   // first among the factories
        .addConverterFactory(MoshiConverterFactory.create())
        .build()
        .create(Api.class);

    // Sign in once. From then on every call carries the token, and 401s are handled.
    TokenJson login = authService.login(new LoginRequest(args[0], args[1])).execute().body();
    auth.signIn(Tokens.of(login.accessToken, login.refreshToken));
    System.out.println(api.me().execute().body().string());
  }
}
// readme:end
